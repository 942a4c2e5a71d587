#include "recal/moves.hpp"

#include <algorithm>
#include <cmath>

#include "analysis/vectors.hpp"
#include "core/dtype.hpp"

namespace moerecal::recal {
namespace {

// The point a of the way from row r0 to r1 along the great circle, its norm blended linearly.
void geodesic(const float* r0, const float* r1, int d, double a, float* out) {
  const double n0 = analysis::norm(r0, d), n1 = analysis::norm(r1, d);
  const double c = std::clamp(analysis::dot(r0, r1, d) / (n0 * n1), -1.0, 1.0);
  const double theta = std::acos(c), s = std::sin(theta), n = (1 - a) * n0 + a * n1;
  const double w0 = s > 1e-9 ? std::sin((1 - a) * theta) / s : 1 - a;
  const double w1 = s > 1e-9 ? std::sin(a * theta) / s : a;
  for (int i = 0; i < d; ++i) out[i] = static_cast<float>(n * (w0 * r0[i] / n0 + w1 * r1[i] / n1));
}

std::vector<float> mpi_move(linalg::Backend& be, const LayerTargets& t, const Strengths& s,
                            Retraction retraction) {
  const analysis::RouterLayer& r = t.inherited;
  const std::vector<double> a = mpi_fractions(t, s);
  if (std::all_of(a.begin(), a.end(), [](double x) { return x >= 1.0; })) {
    return t.mpi_rows;  // exactly the MPI result
  }
  std::vector<float> rows(r.rows.size());
  const int n = r.n_experts, d = r.hidden;
  if (retraction == Retraction::kStiefel) {
    double rho = 0;
    for (int e = 0; e < n; ++e) rho += analysis::norm(t.mpi_rows.data() + std::size_t(e) * d, d);
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const double ae = a[i / d];
      rows[i] = static_cast<float>((1 - ae) * r.rows[i] + ae * t.mpi_rows[i]);
    }
    stiefel_retract(be, rows, n, d, rho / n);
    return rows;
  }
  for (int e = 0; e < n; ++e) {
    const std::size_t o = std::size_t(e) * d;
    geodesic(r.rows.data() + o, t.mpi_rows.data() + o, d, a[e], rows.data() + o);
  }
  return rows;
}

void round_to(DType t, std::vector<float>& v) {
  std::vector<std::byte> bytes(v.size() * dtype_bits(t) / 8);
  narrow_from_f32(t, v.data(), bytes.data(), v.size());
  widen_to_f32(t, bytes.data(), v.data(), v.size());
}

}  // namespace

std::vector<double> mpi_fractions(const LayerTargets& t, const Strengths& s) {
  std::vector<double> a(t.inherited.n_experts, s.mpi);
  if (s.per_expert && !t.imbalance.empty()) {
    for (std::size_t e = 0; e < a.size(); ++e) a[e] *= t.imbalance[e];
  }
  return a;
}

Strengths effective(const LayerTargets& t, const Strengths& s) {
  Strengths e = s;
  if (t.mpi_rows.empty()) e.mpi = 0, e.per_expert = false;
  if (t.shift_from_inherited.empty()) e.shift = 0;
  if (!t.has_bias()) e.bias = 0;
  return e;
}

nlohmann::json to_json(const Strengths& s) {
  return {{"mpi", s.mpi}, {"shift", s.shift}, {"bias", s.bias}, {"per_expert", s.per_expert}};
}

analysis::RouterLayer candidate(linalg::Backend& be, const LayerTargets& t, const Strengths& s,
                                Retraction retraction) {
  analysis::RouterLayer c = t.inherited;
  if (!t.selected) return c;
  const bool mpi = s.mpi > 0 && !t.mpi_rows.empty();
  if (mpi) c.rows = mpi_move(be, t, s, retraction);
  const std::vector<float>& shift = mpi ? t.shift_from_mpi : t.shift_from_inherited;
  if (s.shift > 0 && !shift.empty()) {
    for (std::size_t i = 0; i < c.rows.size(); ++i)
      c.rows[i] += static_cast<float>(s.shift * shift[i]);
  }
  if (s.bias > 0 && t.has_bias()) {
    const std::vector<float>& target = mpi ? t.bias_from_mpi : t.bias_from_inherited;
    analysis::RouterBias& b = t.bias_kind == BiasKind::kRouter ? c.router_bias : c.selection_bias;
    for (std::size_t e = 0; e < b.values.size(); ++e) {
      b.values[e] = static_cast<float>(b.values[e] + s.bias * (target[e] - b.values[e]));
    }
  }
  return c;
}

analysis::RouterLayer rounded(const analysis::RouterLayer& r) {
  analysis::RouterLayer out = r;
  round_to(r.dtype, out.rows);
  if (!out.router_bias.values.empty()) round_to(r.router_bias.dtype, out.router_bias.values);
  if (!out.selection_bias.values.empty()) {
    round_to(r.selection_bias.dtype, out.selection_bias.values);
  }
  return out;
}

engine::RouterWeights router_weights(const analysis::RouterLayer& r) {
  return {r.rows, r.router_bias.values, r.selection_bias.values};
}

std::vector<float> row_shift(const std::vector<float>& b, const std::vector<float>& mu) {
  const int d = static_cast<int>(mu.size());
  const double mm = analysis::dot(mu.data(), mu.data(), d);
  std::vector<float> shift(b.size() * mu.size(), 0.0f);
  if (!(mm > 0)) return shift;
  for (std::size_t e = 0; e < b.size(); ++e) {
    for (int i = 0; i < d; ++i) shift[e * d + i] = static_cast<float>(b[e] * mu[i] / mm);
  }
  return shift;
}

}  // namespace moerecal::recal
