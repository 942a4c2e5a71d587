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

std::vector<PrincipalResult> principal_direction_batch(
    Backend& be, const std::vector<const std::vector<MatrixBlock>*>& sets,
    const std::vector<const float*>& sign_refs, const PrincipalOptions& opt, const Metric* metric) {
  std::vector<ScaledBlocks> scaled(sets.size());
  std::vector<const std::vector<MatrixBlock>*> views(sets.size());
  for (std::size_t i = 0; i < sets.size(); ++i) {
    scaled[i] = scale_blocks(*sets[i]);
    views[i] = &scaled[i].blocks;
  }
  int metric_exponent = 0;
  std::vector<float> m_copy, m_t_copy;  // the metric scaled once for all operators
  Metric m;
  if (metric != nullptr && metric->m != nullptr) {
    const std::size_t n = std::size_t((*sets.at(0))[0].cols) * (*sets[0])[0].cols;
    m = *metric;
    metric_exponent = metric->exponent;
    if (metric_exponent != 0) {
      scaled_copy(metric->m, n, metric_exponent, m_copy);
      if (metric->m_t) scaled_copy(metric->m_t, n, metric_exponent, m_t_copy);
      m = {m_copy.data(), metric->m_t ? m_t_copy.data() : nullptr, 0, metric->lower};
    }
    metric = &m;
  }
  std::vector<PrincipalResult> r =
      principal_direction_batch_unscaled(be, views, sign_refs, opt, metric);
  // A = sum op(W)^T op(W) scales by 2^-2e, M^T A M by 2^-2m more: singular values by 2^-(e+m).
  for (std::size_t i = 0; i < r.size(); ++i) {
    r[i].sigma = std::ldexp(r[i].sigma, scaled[i].exponent + metric_exponent);
    r[i].sigma2 = std::ldexp(r[i].sigma2, scaled[i].exponent + metric_exponent);
  }
  return r;
}

PrincipalResult principal_direction(Backend& be, const std::vector<MatrixBlock>& blocks,
                                    const float* sign_ref, const PrincipalOptions& opt,
                                    const Metric* metric) {
  return principal_direction_batch(be, {&blocks}, {sign_ref}, opt, metric)[0];
}

}  // namespace moerecal::linalg
