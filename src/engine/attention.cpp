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

}  // namespace

void attend_heads(linalg::Backend& be, const HeadLayout& h, int T, float scale, int window,
                  float* o) {
  // Query rows in blocks: a block's rows see keys [c0, r1) only (causal, and the sliding window
  // from c0 on), so the products skip the masked part of the score matrix (about half of it);
  // masked scores inside the block are zeros, which add nothing to the output rows.
  constexpr int kRows = 64;
  const int group = h.n_heads / h.n_kv_heads, o_ld = h.n_heads * h.dv;
  be.parallel_for(h.n_heads, [&](int i, linalg::Backend& hbe) {
    const int g = i / group;
    thread_local std::vector<float> scores_buf;
    float* scores = scratch(scores_buf, std::size_t(kRows) * T);
    for (int r0 = 0; r0 < T; r0 += kRows) {
      const int r1 = std::min(T, r0 + kRows);
      const int c0 = window > 0 ? std::max(0, r0 - window + 1) : 0, nc = r1 - c0;
      hbe.gemm(Trans::kNo, Trans::kYes, r1 - r0, nc, h.dk, scale,
               h.q + std::size_t(r0) * h.q_ld + i * h.q_stride, h.q_ld,
               h.k + std::size_t(c0) * h.k_ld + g * h.k_stride, h.k_ld, 0.0f, scores, nc);
      for (int r = r0; r < r1; ++r) {
        const int lo = window > 0 ? std::max(0, r - window + 1) : 0;
        causal_softmax_row(scores + std::size_t(r - r0) * nc, lo - c0, r + 1 - c0, nc,
                           h.sinks ? h.sinks + i : nullptr);
      }
      hbe.gemm(Trans::kNo, Trans::kNo, r1 - r0, h.dv, nc, 1.0f, scores, nc,
               h.v + std::size_t(c0) * h.v_ld + g * h.v_stride, h.v_ld, 0.0f,
               o + std::size_t(r0) * o_ld + i * h.dv, o_ld);
    }
  });
}

void attention(linalg::Backend& be, const model::ModelSpec& s, int layer, const AttentionWeights& w,
               const RopeTables& rope, const float* x, int T, float* out) {
  const model::AttentionSpec& a = s.attn;
  const int d = s.hidden, hd = a.head_dim, H = a.n_heads, KV = a.n_kv_heads;
  const int qw = H * hd, kw = KV * hd;
  std::vector<float> q(std::size_t(T) * qw), k(std::size_t(T) * kw), v(std::size_t(T) * kw);
  linear(be, x, T, d, w.q, qw, w.q_bias, q.data());
  linear(be, x, T, d, w.k, kw, w.k_bias, k.data());
  linear(be, x, T, d, w.v, kw, w.v_bias, v.data());
  qk_norm(s, w.q_norm, q.data(), T, H);
  qk_norm(s, w.k_norm, k.data(), T, KV);
  clip(q.data(), q.size(), a.clip_qkv);
  clip(k.data(), k.size(), a.clip_qkv);
  clip(v.data(), v.size(), a.clip_qkv);
  for (int t = 0; t < T; ++t) {
    apply_rope(q.data() + std::size_t(t) * qw, H, hd, 0, t, rope);
    apply_rope(k.data() + std::size_t(t) * kw, KV, hd, 0, t, rope);
  }
  std::vector<float> o(std::size_t(T) * qw);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  attend_heads(be,
               {H, KV, hd, hd, q.data(), qw, hd, k.data(), kw, hd, v.data(), kw, hd,
                w.sinks.empty() ? nullptr : w.sinks.data()},
               T, scale, a.window(layer), o.data());
  std::vector<float> y(std::size_t(T) * d);
  linear(be, o.data(), T, qw, w.o, d, w.o_bias, y.data());
  for (std::size_t i = 0; i < y.size(); ++i) out[i] += y[i];
}

}  // namespace moerecal::engine
