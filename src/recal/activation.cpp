#include "recal/activation.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace moerecal::recal {

ActivationMetric activation_metric(linalg::Backend& be, const float* x, int n, int d,
                                   double shrinkage) {
  if (!(shrinkage >= 0 && shrinkage <= 1)) {
    throw UsageError("--shrinkage: expected a value in [0, 1], found " + std::to_string(shrinkage));
  }
  MR_ASSERT(n > 0);
  ActivationMetric a{d, std::vector<float>(std::size_t(d) * d), {}};
  be.gemm(linalg::Trans::kYes, linalg::Trans::kNo, d, d, n, 1.0f / n, x, d, x, d, 0.0f, a.c.data(),
          d);
  double tr = 0;
  for (int i = 0; i < d; ++i) tr += a.c[std::size_t(i) * d + i];
  std::vector<double> c(a.c.size());
  for (int i = 0; i < d; ++i) {
    for (int j = 0; j < d; ++j) {
      const double v = 0.5 * (a.c[std::size_t(i) * d + j] + a.c[std::size_t(j) * d + i]);
      c[std::size_t(i) * d + j] = (1 - shrinkage) * v + (i == j ? shrinkage * tr / d : 0.0);
      a.c[std::size_t(i) * d + j] = static_cast<float>(c[std::size_t(i) * d + j]);
    }
  }
  std::vector<double> w(d);
  be.syev(d, c.data(), w.data());  // c: eigenvectors, one per column
  a.c_half.assign(std::size_t(d) * d, 0.0f);
  for (int i = 0; i < d; ++i) {
    for (int j = 0; j < d; ++j) {
      double s = 0;
      for (int k = 0; k < d; ++k)
        s += c[std::size_t(i) * d + k] * std::sqrt(std::max(0.0, w[k])) * c[std::size_t(j) * d + k];
      a.c_half[std::size_t(i) * d + j] = static_cast<float>(s);
    }
  }
  return a;
}

ExpertOperand whiten(linalg::Backend& be, const ExpertOperand& op, const ActivationMetric& a) {
  ExpertOperand out;
  const int d = a.d;
  std::vector<float>* dst[2] = {&out.first, &out.second};
  for (std::size_t b = 0; b < op.blocks.size(); ++b) {
    const linalg::MatrixBlock& w = op.blocks[b];
    dst[b]->assign(std::size_t(w.rows) * d, 0.0f);
    const linalg::Trans fwd = w.transposed ? linalg::Trans::kYes : linalg::Trans::kNo;
    const int ld = w.transposed ? w.rows : w.cols;
    be.gemm(fwd, linalg::Trans::kNo, w.rows, d, d, 1.0f, w.data, ld, a.c_half.data(), d, 0.0f,
            dst[b]->data(), d);
    out.blocks.push_back({dst[b]->data(), w.rows, d, false});
  }
  return out;
}

}  // namespace moerecal::recal
