// The calibration-aware operator of DESIGN.md §1: C = (1/n) sum x x^T over a layer's router
// inputs (centred: (1/n) sum (x - mean)(x - mean)^T), shrunk towards a scaled identity, C <- (1 -
// lambda) C + lambda (tr C / d) I, and its square root from one eigendecomposition. A_e = C W_e^T
// W_e; its top eigenvector is v_e = C^{1/2} u / ||C^{1/2} u|| with u the top eigenvector of C^{1/2}
// W_e^T W_e C^{1/2}.
#pragma once

#include <vector>

#include "linalg/backend.hpp"

namespace moerecal::recal {

struct ActivationMetric {
  int d = 0;
  std::vector<float> c;       // [d, d]
  std::vector<float> c_half;  // [d, d], symmetric
};

// x: [n, d] router inputs. c and c_half are exact up to a power-of-two scale (x is scaled first
// when its entries are huge or tiny), which no use depends on. Throws UsageError when shrinkage
// is outside [0, 1].
ActivationMetric activation_metric(linalg::Backend& be, const float* x, int n, int d,
                                   double shrinkage, bool centred = false);

// The mean of the rows of x [n, d], and x with it removed.
std::vector<float> mean_row(const float* x, int n, int d);
std::vector<float> centred_rows(const float* x, int n, int d);

}  // namespace moerecal::recal
