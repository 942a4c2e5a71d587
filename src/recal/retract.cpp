// Retractions of the MPI step and the option parsers of mpi.hpp.
#include <cmath>
#include <cstdlib>

#include "core/error.hpp"
#include "recal/mpi.hpp"

namespace moerecal::recal {

Radius parse_radius(const std::string& s) {
  if (s == "mean") return {Radius::Kind::kMean, 0};
  if (s == "keep") return {Radius::Kind::kKeep, 0};
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(v > 0) || !std::isfinite(v)) {
    throw UsageError("expected mean, keep or a positive number, found '" + s + "'");
  }
  return {Radius::Kind::kValue, v};
}

int parse_steps(const std::string& s) {
  if (s == "converge") return kConverge;
  char* end = nullptr;
  const long v = std::strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v < 0 || v > 1000000) {
    throw UsageError("expected a non-negative integer or 'converge', found '" + s + "'");
  }
  return static_cast<int>(v);
}

void stiefel_retract(linalg::Backend& be, std::vector<float>& rows, int n, int d, double rho) {
  std::vector<double> g(std::size_t(n) * n), w(n);
  for (int a = 0; a < n; ++a) {
    for (int b = 0; b <= a; ++b) {
      double s = 0;
      for (int i = 0; i < d; ++i)
        s += double{rows[std::size_t(a) * d + i]} * rows[std::size_t(b) * d + i];
      g[std::size_t(a) * n + b] = g[std::size_t(b) * n + a] = s;
    }
  }
  be.syev(n, g.data(), w.data());  // g now holds eigenvectors, one per column
  if (!(w[0] > 1e-12 * w[n - 1])) {
    throw BackendError(
        "stiefel retraction: router rows are linearly dependent (smallest "
        "eigenvalue of R R^T is " +
        std::to_string(w[0]) + ")");
  }
  // M = U diag(rho / sqrt(w)) U^T, then R <- M R
  std::vector<float> m(std::size_t(n) * n);
  for (int a = 0; a < n; ++a) {
    for (int b = 0; b < n; ++b) {
      double s = 0;
      for (int k = 0; k < n; ++k)
        s += g[std::size_t(a) * n + k] * g[std::size_t(b) * n + k] / std::sqrt(w[k]);
      m[std::size_t(a) * n + b] = static_cast<float>(rho * s);
    }
  }
  std::vector<float> out(rows.size());
  be.gemm(linalg::Trans::kNo, linalg::Trans::kNo, n, d, n, 1.0f, m.data(), n, rows.data(), d, 0.0f,
          out.data(), d);
  rows.swap(out);
}

}  // namespace moerecal::recal
