#include "engine/ops.hpp"

#include <algorithm>
#include <cmath>

namespace moerecal::engine {

void rms_norm(const float* x, const float* w, float* y, std::size_t n, int d, double eps) {
  for (std::size_t r = 0; r < n; ++r) {
    const float* xr = x + r * d;
    float* yr = y + r * d;
    double ss = 0;
    for (int i = 0; i < d; ++i) ss += double{xr[i]} * xr[i];
    const float inv = static_cast<float>(1.0 / std::sqrt(ss / d + eps));
    for (int i = 0; i < d; ++i) yr[i] = w[i] * (xr[i] * inv);
  }
}

void causal_softmax_row(float* x, int lo, int hi, int n, const float* sink) {
  float mx = *std::max_element(x + lo, x + hi);
  if (sink) mx = std::max(mx, *sink);
  double sum = sink ? std::exp(double{*sink} - mx) : 0.0;
  for (int i = lo; i < hi; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = static_cast<float>(1.0 / sum);
  for (int i = lo; i < hi; ++i) x[i] *= inv;
  std::fill(x, x + lo, 0.0f);
  std::fill(x + hi, x + n, 0.0f);
}

void log_softmax_row(const float* x, float* out, int d) {
  const float mx = *std::max_element(x, x + d);
  double sum = 0;
  for (int i = 0; i < d; ++i) sum += std::exp(double{x[i]} - mx);
  const double lse = mx + std::log(sum);
  for (int i = 0; i < d; ++i) out[i] = static_cast<float>(x[i] - lse);
}

float silu(float x) { return x / (1.0f + std::exp(-x)); }

float* scratch(std::vector<float>& buf, std::size_t n) {
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

void release_large(std::vector<float>& buf) {
  constexpr std::size_t kKeepFloats = std::size_t(16) << 20;  // 64 MiB
  if (buf.capacity() > kKeepFloats) std::vector<float>().swap(buf);
}

}  // namespace moerecal::engine
