#include "engine/rope.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace moerecal::engine {
namespace {

double yarn_mscale(double factor, double m) {
  return factor <= 1 ? 1.0 : 0.1 * m * std::log(factor) + 1.0;
}

// transformers' _compute_yarn_parameters (ARCHITECTURES.md §8, §13).
void apply_yarn(const model::RopeSpec& r, RopeTables& t) {
  const model::YarnSpec& y = r.y;
  const int dim = r.dim;
  const auto corr = [&](double rot) {
    return dim * std::log(y.original_max_position / (rot * 2 * std::numbers::pi)) /
           (2 * std::log(r.theta));
  };
  double low = corr(y.beta_fast), high = corr(y.beta_slow);
  if (y.truncate) low = std::floor(low), high = std::ceil(high);
  low = std::max(low, 0.0);
  high = std::min(high, dim - 1.0);
  if (low == high) high += 0.001;
  for (int i = 0; i < dim / 2; ++i) {
    const double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);
    t.inv_freq[i] = t.inv_freq[i] / y.factor * ramp + t.inv_freq[i] * (1 - ramp);
  }
  double af = y.attention_factor;
  if (af == 0) {
    af = y.mscale != 0 && y.mscale_all_dim != 0
             ? yarn_mscale(y.factor, y.mscale) / yarn_mscale(y.factor, y.mscale_all_dim)
             : yarn_mscale(y.factor, 1.0);
  }
  t.attention_factor = static_cast<float>(af);
}

// [x0, x1, x2, x3, ..] -> [x0, x2, .., x1, x3, ..]
void deinterleave(float* x, int dim) {
  thread_local std::vector<float> tmp;
  tmp.resize(dim);
  for (int i = 0; i < dim / 2; ++i) {
    tmp[i] = x[2 * i];
    tmp[dim / 2 + i] = x[2 * i + 1];
  }
  std::copy_n(tmp.begin(), dim, x);
}

}  // namespace

RopeTables rope_tables(const model::RopeSpec& rope) {
  RopeTables t;
  t.dim = rope.dim;
  t.interleaved = rope.layout == model::RopeLayout::kInterleaved;
  t.inv_freq.resize(rope.dim / 2);
  for (int i = 0; i < rope.dim / 2; ++i) {
    // computed as torch does: 1 / theta^(arange(0, dim, 2) / dim) in fp32
    const float e = static_cast<float>(2 * i) / static_cast<float>(rope.dim);
    t.inv_freq[i] = static_cast<double>(1.0f / std::pow(static_cast<float>(rope.theta), e));
  }
  if (rope.yarn) apply_yarn(rope, t);
  return t;
}

void apply_rope(float* x, int heads, int stride, int offset, int pos, const RopeTables& t) {
  const int half = t.dim / 2;
  thread_local std::vector<float> cs;  // cos then sin of each frequency at `pos`
  cs.resize(t.dim);
  for (int i = 0; i < half; ++i) {
    const float angle = static_cast<float>(pos) * static_cast<float>(t.inv_freq[i]);
    float c = std::cos(angle), s = std::sin(angle);
    if (t.attention_factor != 1.0f) c *= t.attention_factor, s *= t.attention_factor;
    cs[i] = c;
    cs[half + i] = s;
  }
  const float *c = cs.data(), *s = cs.data() + half;
  for (int h = 0; h < heads; ++h) {
    float* v = x + std::size_t(h) * stride + offset;
    if (t.interleaved) deinterleave(v, t.dim);
    for (int i = 0; i < half; ++i) {
      const float a = v[i], b = v[i + half];
      v[i] = a * c[i] - b * s[i];
      v[i + half] = b * c[i] + a * s[i];
    }
  }
}

}  // namespace moerecal::engine
