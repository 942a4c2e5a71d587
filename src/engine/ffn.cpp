#include "engine/ffn.hpp"

#include "engine/ops.hpp"

namespace moerecal::engine {

void linear(linalg::Backend& be, const float* x, int T, int d, const std::vector<float>& w, int n,
            const std::vector<float>& b, float* y) {
  be.gemm(linalg::Trans::kNo, linalg::Trans::kYes, T, n, d, 1.0f, x, d, w.data(), d, 0.0f, y, n);
  if (b.empty()) return;
  for (int t = 0; t < T; ++t)
    for (int j = 0; j < n; ++j) y[std::size_t(t) * n + j] += b[j];
}

void swiglu_add(linalg::Backend& be, const Mlp& w, const float* x, int n, int d, const float* scale,
                float* out) {
  using linalg::Trans;
  const int m = w.width;
  std::vector<float> g(std::size_t(n) * m), u(std::size_t(n) * m), y(std::size_t(n) * d);
  be.gemm(Trans::kNo, Trans::kYes, n, m, d, 1.0f, x, d, w.gate.data(), d, 0.0f, g.data(), m);
  be.gemm(Trans::kNo, Trans::kYes, n, m, d, 1.0f, x, d, w.up.data(), d, 0.0f, u.data(), m);
  for (std::size_t i = 0; i < g.size(); ++i) g[i] = silu(g[i]) * u[i];
  be.gemm(Trans::kNo, Trans::kYes, n, d, m, 1.0f, g.data(), m, w.down.data(), m, 0.0f, y.data(), d);
  for (int r = 0; r < n; ++r) {
    const float c = scale ? scale[r] : 1.0f;
    for (int j = 0; j < d; ++j) out[std::size_t(r) * d + j] += c * y[std::size_t(r) * d + j];
  }
}

}  // namespace moerecal::engine
