#include "engine/attention.hpp"

#include <algorithm>
#include <cmath>

#include "engine/ffn.hpp"
#include "engine/ops.hpp"

namespace moerecal::engine {
namespace {

using linalg::Trans;

void qk_norm(const model::ModelSpec& s, const std::vector<float>& w, float* x, int T, int heads) {
  if (w.empty()) return;
  const int hd = s.attn.head_dim;
  if (s.attn.qk_norm == model::QkNorm::kPerHead) {
    rms_norm(x, w.data(), x, std::size_t(T) * heads, hd, s.rms_eps);
  } else {
    rms_norm(x, w.data(), x, T, heads * hd, s.rms_eps);
  }
}

void clip(float* x, std::size_t n, double c) {
  if (c <= 0) return;
  const float lim = static_cast<float>(c);
  for (std::size_t i = 0; i < n; ++i) x[i] = std::clamp(x[i], -lim, lim);
}

// Head i of one sequence of T rows (the layout's rows start at the sequence's first).
void attend_head(linalg::Backend& be, const HeadLayout& h, int i, int T, float scale, int window,
                 float* o) {
  // Query rows in blocks: a block's rows see keys [c0, r1) only (causal, and the sliding window
  // from c0 on), so the products skip the masked part of the score matrix (about half of it);
  // masked scores inside the block are zeros, which add nothing to the output rows.
  constexpr int kRows = 64;
  const int g = i / (h.n_heads / h.n_kv_heads), o_ld = h.n_heads * h.dv;
  thread_local std::vector<float> scores_buf;
  float* scores = scratch(scores_buf, std::size_t(kRows) * T);
  for (int r0 = 0; r0 < T; r0 += kRows) {
    const int r1 = std::min(T, r0 + kRows);
    const int c0 = window > 0 ? std::max(0, r0 - window + 1) : 0, nc = r1 - c0;
    be.gemm(Trans::kNo, Trans::kYes, r1 - r0, nc, h.dk, scale,
            h.q + std::size_t(r0) * h.q_ld + i * h.q_stride, h.q_ld,
            h.k + std::size_t(c0) * h.k_ld + g * h.k_stride, h.k_ld, 0.0f, scores, nc);
    for (int r = r0; r < r1; ++r) {
      const int lo = window > 0 ? std::max(0, r - window + 1) : 0;
      causal_softmax_row(scores + std::size_t(r - r0) * nc, lo - c0, r + 1 - c0, nc,
                         h.sinks ? h.sinks + i : nullptr);
    }
    be.gemm(Trans::kNo, Trans::kNo, r1 - r0, h.dv, nc, 1.0f, scores, nc,
            h.v + std::size_t(c0) * h.v_ld + g * h.v_stride, h.v_ld, 0.0f,
            o + std::size_t(r0) * o_ld + i * h.dv, o_ld);
  }
}

}  // namespace

std::vector<std::vector<int>> attention_groups(const std::vector<std::vector<int>>& seqs, int d) {
  constexpr std::size_t kGroupElements = std::size_t(1) << 22;
  std::vector<std::vector<int>> groups;
  std::size_t rows = 0;
  for (const auto& seq : seqs) {
    const std::size_t n = seq.size();
    if (groups.empty() || (rows + n) * std::size_t(d) > kGroupElements) {
      groups.emplace_back();
      rows = 0;
    }
    groups.back().push_back(static_cast<int>(n));
    rows += n;
  }
  return groups;
}

void attend_sequences(linalg::Backend& be, const HeadLayout& h, std::span<const int> lengths,
                      float scale, int window, float* o) {
  std::vector<std::size_t> firsts;
  for_each_sequence(lengths, [&](std::size_t first, int) { firsts.push_back(first); });
  // Every (sequence, head) pair is one independent task.
  be.parallel_for(static_cast<int>(lengths.size()) * h.n_heads,
                  [&](int task, linalg::Backend& hbe) {
                    const std::size_t seq = task / h.n_heads, first = firsts[seq];
                    HeadLayout rows = h;
                    rows.q += first * h.q_ld;
                    rows.k += first * h.k_ld;
                    rows.v += first * h.v_ld;
                    attend_head(hbe, rows, task % h.n_heads, lengths[seq], scale, window,
                                o + first * h.n_heads * h.dv);
                  });
}

void attention(linalg::Backend& be, const model::ModelSpec& s, int layer, const AttentionWeights& w,
               const RopeTables& rope, const float* x, std::span<const int> lengths, float* out) {
  const model::AttentionSpec& a = s.attn;
  const int d = s.hidden, hd = a.head_dim, H = a.n_heads, KV = a.n_kv_heads;
  const int qw = H * hd, kw = KV * hd;
  const int T = total_length(lengths);
  // Kept from layer to layer (attention runs on the calling thread): no fresh pages per call;
  // buffers past release_large's bound (one very long window) are given back after the call.
  thread_local std::vector<float> q_buf, k_buf, v_buf, o_buf, y_buf;
  float* q = scratch(q_buf, std::size_t(T) * qw);
  float* k = scratch(k_buf, std::size_t(T) * kw);
  float* v = scratch(v_buf, std::size_t(T) * kw);
  linear(be, x, T, d, w.q, qw, w.q_bias, q);
  linear(be, x, T, d, w.k, kw, w.k_bias, k);
  linear(be, x, T, d, w.v, kw, w.v_bias, v);
  qk_norm(s, w.q_norm, q, T, H);
  qk_norm(s, w.k_norm, k, T, KV);
  clip(q, std::size_t(T) * qw, a.clip_qkv);
  clip(k, std::size_t(T) * kw, a.clip_qkv);
  clip(v, std::size_t(T) * kw, a.clip_qkv);
  for_each_sequence(lengths, [&](std::size_t first, int n) {
    for (int t = 0; t < n; ++t) {
      apply_rope(q + (first + t) * qw, H, hd, 0, t, rope);
      apply_rope(k + (first + t) * kw, KV, hd, 0, t, rope);
    }
  });
  float* o = scratch(o_buf, std::size_t(T) * qw);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  attend_sequences(
      be,
      {H, KV, hd, hd, q, qw, hd, k, kw, hd, v, kw, hd, w.sinks.empty() ? nullptr : w.sinks.data()},
      lengths, scale, a.window(layer), o);
  float* y = scratch(y_buf, std::size_t(T) * d);
  linear(be, o, T, qw, w.o, d, w.o_bias, y);
  for (std::size_t i = 0; i < std::size_t(T) * d; ++i) out[i] += y[i];
  for (std::vector<float>* b : {&q_buf, &k_buf, &v_buf, &o_buf, &y_buf}) release_large(*b);
}

}  // namespace moerecal::engine
