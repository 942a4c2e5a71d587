#include "engine/ops.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

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

namespace {

// Built three times, for AVX-512, AVX2 + FMA and the baseline; the loader picks one per CPU.
#define MR_VECTOR_CLONES __attribute__((target_clones("avx512f", "arch=haswell", "default")))

// e^x in float, branch-free so that loops over it vectorize (glibc's expf is a call per element):
// x = n ln2 + r with |r| <= ln2 / 2 (Cody-Waite, ln2 in two parts), e^r by Cephes' degree-7
// polynomial, 2^n by the exponent bits. Within 2 ulp of e^x for x in [-87.3, 88]; x is clamped to
// that range first (softmax arguments are <= 0 and silu's e^-x only needs to be huge), and a
// NaN stays NaN through the clamps.
inline float exp_f32(float x) {
  constexpr float kLog2e = 1.44269504088896341f, kLn2Hi = 0.693359375f, kLn2Lo = -2.12194440e-4f;
  constexpr float kRound = 12582912.0f;  // 1.5 * 2^23: adding it rounds to an integer
  constexpr float kLo = -87.3365f, kHi = 88.0f;
  x = x < kLo ? kLo : x;  // selects on values (std::min/max return references, which keep the
  x = x > kHi ? kHi : x;  // compiler from vectorizing)
  const float n = (x * kLog2e + kRound) - kRound;
  const float r = (x - n * kLn2Hi) - n * kLn2Lo;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const std::int32_t bits = (static_cast<std::int32_t>(n) + 127) << 23;
  float scale;
  std::memcpy(&scale, &bits, sizeof scale);
  return p * scale;
}

}  // namespace

MR_VECTOR_CLONES void causal_softmax_row(float* x, int lo, int hi, int n, const float* sink) {
  float mx = *std::max_element(x + lo, x + hi);
  if (sink) mx = std::max(mx, *sink);
  for (int i = lo; i < hi; ++i) x[i] = exp_f32(x[i] - mx);
  constexpr int kLanes = 8;  // the double sum in independent lanes, so it vectorizes too
  double lane[kLanes] = {};
  int i = lo;
  for (; i + kLanes <= hi; i += kLanes)
    for (int l = 0; l < kLanes; ++l) lane[l] += x[i + l];
  for (; i < hi; ++i) lane[0] += x[i];
  double sum = sink ? std::exp(double{*sink} - mx) : 0.0;
  for (double v : lane) sum += v;
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

MR_VECTOR_CLONES void silu_mul(float* g, const float* u, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) g[i] = g[i] / (1.0f + exp_f32(-g[i])) * u[i];
}

float* scratch(std::vector<float>& buf, std::size_t n) {
  if (buf.size() < n) buf.resize(n);
  return buf.data();
}

void release_large(std::vector<float>& buf) {
  constexpr std::size_t kKeepFloats = std::size_t(16) << 20;  // 64 MiB
  if (buf.capacity() > kKeepFloats) std::vector<float>().swap(buf);
}

}  // namespace moerecal::engine
