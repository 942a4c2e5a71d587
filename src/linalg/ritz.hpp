// Pieces shared by the two principal-direction solvers (principal.cpp: block LOBPCG; krylov.cpp:
// Krylov with a full basis): the implicit Gram operator, the Rayleigh-Ritz step and the sign rule.
// Internal to linalg.
#pragma once

#include <vector>

#include "linalg/backend.hpp"
#include "linalg/principal_types.hpp"

namespace moerecal::linalg::ritz {

using Mat = std::vector<double>;

// Directions of the basis whose Gram eigenvalue falls below this share of the largest are dropped:
// they carry little new information and their A-images are dominated by f32 rounding.
constexpr double kRankTol = 1e-10;

// c[m, n] = alpha op(a) op(b) + beta c for row-major doubles with leading dimensions.
void dgemm(Backend& be, bool ta, bool tb, int m, int n, int k, const double* a, int lda,
           const double* b, int ldb, double* c, int ldc, double alpha = 1.0, double beta = 0.0);

// A applied to k columns of a row-major double array: in is rounded to f32, then Z = sum_b op(W)^T
// op(W) X by the backend's Gram product per block (X and Z held transposed, k rows of length d),
// between two products with the metric M when there is one (Z = M^T sum_b op(W)^T op(W) M X,
// symmetric for any M).
class GramOperator {
 public:
  // One operator per block set (sets[s] must outlive this), all sharing the metric; k_max: the
  // most columns one apply() takes.
  GramOperator(Backend& be, std::vector<const std::vector<MatrixBlock>*> sets, const Metric* metric,
               int k_max);
  GramOperator(Backend& be, const std::vector<MatrixBlock>& blocks, const Metric* metric, int k_max)
      : GramOperator(be, std::vector<const std::vector<MatrixBlock>*>{&blocks}, metric, k_max) {}

  int sets() const { return static_cast<int>(sets_.size()); }

  // Z = A X for k columns of a row-major double array (leading dimensions ldi, ldo); `in` is
  // rounded to f32 in place, so it holds exactly what A saw. Column c goes to operator set[c]
  // (`set`: k entries), or every column to operator 0 when `set` is null; the products with the
  // metric take all k columns at once either way.
  void apply(double* in, int ldi, int k, double* out, int ldo, const int* set = nullptr);

 private:
  // Rows (k x d) times M^T (first) or M: in place for a triangular M, else into mt_; the rows
  // themselves without a metric.
  const float* times_metric(float* rows, int k, bool first);

  Backend& be_;
  std::vector<const std::vector<MatrixBlock>*> sets_;
  Metric metric_;
  int d_;
  std::vector<float> xt_, zt_, mt_;
};

struct Ritz {
  Mat coef;  // [k, nb] top Ritz vectors as coefficients on the basis columns, descending
  std::vector<double> theta;
  int nb = 0;
};

// Rayleigh-Ritz for the pencil (H, G) = (S^T A S, S^T S) of k basis columns: G = V L V^T gives
// the orthonormalizing map B = V_kept L_kept^-1/2; the top nb eigenvectors Y of B^T H B give
// coefficients B Y. Directions of S that are numerically dependent (L below kRankTol) are dropped.
Ritz rayleigh_ritz(Backend& be, Mat g, const Mat& h, int k, int b);

// sin(theta) between a (d entries, `stride` apart: a basis column) and the contiguous b; 1 when
// either is 0.
double sin_between(const double* a, std::size_t stride, const double* b, int d);

// Signs v so that v . ref > 0 (ref may be null); when that dot is 0, its largest |entry| > 0.
void fix_sign(std::vector<float>& v, const float* ref);

}  // namespace moerecal::linalg::ritz
