#include "engine/attention.hpp"

#include <algorithm>
#include <cmath>

#include "engine/ops.hpp"

namespace moerecal::engine {
namespace {

using linalg::Trans;

// y [T, n] = x [T, d] W^T (+ b), W [n, d]
void linear(linalg::Backend& be, const float* x, int T, int d, const std::vector<float>& w, int n,
            const std::vector<float>& b, float* y) {
  be.gemm(Trans::kNo, Trans::kYes, T, n, d, 1.0f, x, d, w.data(), d, 0.0f, y, n);
  if (b.empty()) return;
  for (int t = 0; t < T; ++t)
    for (int j = 0; j < n; ++j) y[std::size_t(t) * n + j] += b[j];
}

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

void attention(linalg::Backend& be, const model::ModelSpec& s, const AttentionWeights& w,
               const std::vector<double>& inv_freq, const float* x, int T, float* out) {
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
    rope_row(q.data() + std::size_t(t) * qw, H, hd, t, inv_freq);
    rope_row(k.data() + std::size_t(t) * kw, KV, hd, t, inv_freq);
  }
  std::vector<float> o(std::size_t(T) * qw);
  const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
  // Each head writes its own columns of o.
  be.parallel_for(H, [&](int h, linalg::Backend& hbe) {
    const int g = h / (H / KV);
    std::vector<float> scores(std::size_t(T) * T);
    hbe.gemm(Trans::kNo, Trans::kYes, T, T, hd, scale, q.data() + h * hd, qw, k.data() + g * hd, kw,
             0.0f, scores.data(), T);
    for (int i = 0; i < T; ++i) {
      const int lo = a.sliding_window > 0 ? std::max(0, i - a.sliding_window + 1) : 0;
      causal_softmax_row(scores.data() + std::size_t(i) * T, lo, i + 1, T);
    }
    hbe.gemm(Trans::kNo, Trans::kNo, T, hd, T, 1.0f, scores.data(), T, v.data() + g * hd, kw, 0.0f,
             o.data() + h * hd, qw);
  });
  std::vector<float> y(std::size_t(T) * d);
  linear(be, o.data(), T, qw, w.o, d, w.o_bias, y.data());
  for (std::size_t i = 0; i < y.size(); ++i) out[i] += y[i];
}

}  // namespace moerecal::engine
