#include "linalg/scaled_blocks.hpp"

#include <algorithm>
#include <cmath>

namespace moerecal::linalg {
namespace {

// In 16 independent lanes, so the compiler vectorizes it (a single running max is a reduction it
// may not reorder); std::max keeps a NaN-free result exactly as a sequential scan would.
float max_abs(const float* v, std::size_t n) {
  constexpr std::size_t kLanes = 16;
  float lane[kLanes] = {};
  std::size_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (std::size_t l = 0; l < kLanes; ++l) lane[l] = std::max(lane[l], std::abs(v[i + l]));
  }
  for (; i < n; ++i) lane[0] = std::max(lane[0], std::abs(v[i]));
  return *std::max_element(lane, lane + kLanes);
}

int exponent_for(float amax) {
  if (amax == 0.0f || !std::isfinite(amax)) return 0;
  int e = 0;
  std::frexp(amax, &e);  // amax = m * 2^e, m in [0.5, 1)
  return e > kScaleRange || e < -kScaleRange ? e : 0;
}

}  // namespace

int range_exponent(const float* v, std::size_t n) { return exponent_for(max_abs(v, n)); }

void scaled_copy(const float* v, std::size_t n, int e, std::vector<float>& out) {
  out.resize(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = std::ldexp(v[i], -e);
}

ScaledBlocks scale_blocks(const std::vector<MatrixBlock>& blocks) {
  ScaledBlocks s;
  s.blocks = blocks;
  float amax = 0.0f;
  for (const MatrixBlock& b : blocks) {
    amax = std::max(amax, max_abs(b.data, std::size_t(b.rows) * b.cols));
  }
  s.exponent = exponent_for(amax);
  if (s.exponent == 0) return s;
  s.storage.resize(blocks.size());
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    scaled_copy(blocks[i].data, std::size_t(blocks[i].rows) * blocks[i].cols, s.exponent,
                s.storage[i]);
    s.blocks[i].data = s.storage[i].data();
  }
  return s;
}

PrincipalResult principal_direction(Backend& be, const std::vector<MatrixBlock>& blocks,
                                    const float* sign_ref, const PrincipalOptions& opt,
                                    const Metric* metric) {
  const ScaledBlocks s = scale_blocks(blocks);
  int metric_exponent = 0;
  std::vector<float> m_copy, m_t_copy;
  Metric scaled;
  if (metric != nullptr && metric->m != nullptr) {
    const std::size_t n = std::size_t(blocks[0].cols) * blocks[0].cols;
    scaled = *metric;
    metric_exponent = metric->exponent;
    if (metric_exponent != 0) {
      scaled_copy(metric->m, n, metric_exponent, m_copy);
      if (metric->m_t) scaled_copy(metric->m_t, n, metric_exponent, m_t_copy);
      scaled = {m_copy.data(), metric->m_t ? m_t_copy.data() : nullptr, 0, metric->lower};
    }
    metric = &scaled;
  }
  PrincipalResult r = principal_direction_unscaled(be, s.blocks, sign_ref, opt, metric);
  // A = sum op(W)^T op(W) scales by 2^-2e, M^T A M by 2^-2m more: singular values by 2^-(e+m).
  r.sigma = std::ldexp(r.sigma, s.exponent + metric_exponent);
  r.sigma2 = std::ldexp(r.sigma2, s.exponent + metric_exponent);
  return r;
}

}  // namespace moerecal::linalg
