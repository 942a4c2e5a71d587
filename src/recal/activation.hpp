// The calibration-aware operator of DESIGN.md §1: C = (1/n) sum x x^T over a layer's router
// inputs (centred: (1/n) sum (x - mean)(x - mean)^T), shrunk towards a scaled identity, C <- (1 -
// lambda) C + lambda (tr C / d) I, and a factor F with C = F F^T: the Cholesky factor L, or, where
// C is not numerically positive definite (lambda = 0 and fewer tokens than dimensions, say), the
// symmetric square root C^1/2 from an eigendecomposition. A_e = C W_e^T W_e is similar to the
// symmetric F^T W_e^T W_e F, so its top eigenvector is v_e = F u / ||F u|| with u the top
// eigenvector of F^T W_e^T W_e F. (DESIGN.md names C^1/2; L gives the same v_e, and a d x d
// Cholesky costs a fraction of the eigendecomposition: d^3/3 flops against about 9 d^3, plus the
// d^3 product that forms C^1/2.)
#pragma once

#include <vector>

#include "linalg/backend.hpp"
#include "linalg/principal_types.hpp"

namespace moerecal::recal {

struct ActivationMetric {
  int d = 0;
  std::vector<float> c;         // [d, d]
  std::vector<float> factor;    // [d, d], C = F F^T (lower triangular L, or C^1/2)
  std::vector<float> factor_t;  // [d, d], F^T; empty for the Cholesky factor (lower)
  int factor_exponent = 0;      // linalg::range_exponent of the factor
  bool lower = false;           // the factor is the Cholesky factor (else C^1/2)
  linalg::Metric metric() const {
    return {factor.data(), lower ? nullptr : factor_t.data(), factor_exponent, lower};
  }
};

// x: [n, d] router inputs. c and factor are exact up to a power-of-two scale (x is scaled first
// when its entries are huge or tiny), which no use depends on. Throws UsageError when shrinkage
// is outside [0, 1].
ActivationMetric activation_metric(linalg::Backend& be, const float* x, int n, int d,
                                   double shrinkage, bool centred = false);

// Products of the metric with every row of a layer at once (one pass over each d x d matrix for
// all rows, not one per expert: at d 7168 each is 205 MB). rows: [n, d] row-major.
// y <- y C^T in f64 (C widened a panel at a time; every product and sum in f64), the power step's
// C A_e r for all experts.
void times_c(linalg::Backend& be, const ActivationMetric& act, std::vector<double>& y, int n);
// C r_e for every row r_e: the sign rule's reference.
std::vector<float> c_rows(linalg::Backend& be, const ActivationMetric& act,
                          const std::vector<float>& rows, int n);
// rows_e op(F) for every row (F the factor): with kNo (F^T c_e)^T, the direction solve's sign
// reference; with kYes (F u_e)^T, the direction v_e = F u_e from the eigenvector u_e of
// F^T W^T W F.
std::vector<float> times_factor(linalg::Backend& be, const ActivationMetric& act,
                                const std::vector<float>& rows, int n, linalg::Trans t);

// The mean of the rows of x [n, d], and x with it removed.
std::vector<float> mean_row(const float* x, int n, int d);
std::vector<float> centred_rows(const float* x, int n, int d);

}  // namespace moerecal::recal
