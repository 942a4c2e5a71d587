#include "engine/ffn.hpp"

#include <algorithm>
#include <cmath>

#include "engine/ops.hpp"

namespace moerecal::engine {

void linear(linalg::Backend& be, const float* x, int T, int d, const std::vector<float>& w, int n,
            const std::vector<float>& b, float* y) {
  be.gemm(linalg::Trans::kNo, linalg::Trans::kYes, T, n, d, 1.0f, x, d, w.data(), d, 0.0f, y, n);
  if (b.empty()) return;
  for (int t = 0; t < T; ++t)
    for (int j = 0; j < n; ++j) y[std::size_t(t) * n + j] += b[j];
}

namespace {

// h = (clamp(up) + 1) * gate * sigmoid(alpha * gate), gate clamped from above (gpt-oss).
void clamped_glu(float* g, const float* u, std::size_t n, const model::ExpertActivation& act) {
  const float limit = static_cast<float>(act.limit), alpha = static_cast<float>(act.alpha);
  for (std::size_t i = 0; i < n; ++i) {
    const float gate = std::min(g[i], limit), up = std::clamp(u[i], -limit, limit);
    g[i] = (up + 1.0f) * (gate / (1.0f + std::exp(-alpha * gate)));
  }
}

}  // namespace

void swiglu(linalg::Backend& be, const Mlp& w, const float* x, int n, int d, float* y,
            const model::ExpertActivation& act) {
  thread_local std::vector<float> g_buf, u_buf;
  const int m = w.width;
  const std::size_t nm = std::size_t(n) * m;
  float* g = scratch(g_buf, nm);
  float* u = scratch(u_buf, nm);
  linear(be, x, n, d, w.gate, m, w.gate_bias, g);
  linear(be, x, n, d, w.up, m, w.up_bias, u);
  if (act.clamped) {
    clamped_glu(g, u, nm, act);
  } else {
    silu_mul(g, u, nm);
  }
  linear(be, g, n, m, w.down, d, w.down_bias, y);
  release_large(g_buf);
  release_large(u_buf);
}

void swiglu_add(linalg::Backend& be, const Mlp& w, const float* x, int n, int d, const float* scale,
                float* out, const model::ExpertActivation& act) {
  thread_local std::vector<float> y_buf;
  float* y = scratch(y_buf, std::size_t(n) * d);
  swiglu(be, w, x, n, d, y, act);
  for (int r = 0; r < n; ++r) {
    const float c = scale ? scale[r] : 1.0f;
    for (int j = 0; j < d; ++j) out[std::size_t(r) * d + j] += c * y[std::size_t(r) * d + j];
  }
  release_large(y_buf);
}

}  // namespace moerecal::engine
