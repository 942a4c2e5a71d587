// The principal-direction solvers' inputs and result (principal.hpp), apart from the solvers so
// that their shared pieces (ritz.hpp) and the Krylov solver (krylov.hpp) need not include the
// entry point that dispatches to them.
#pragma once

#include <vector>

namespace moerecal::linalg {

// One row-major block of the operator. With transposed=false it contributes W^T W (W is
// rows x cols, cols = the direction's dimension); with transposed=true it contributes W W^T
// (W is cols x rows), i.e. the left singular direction of W.
struct MatrixBlock {
  const float* data = nullptr;
  int rows = 0;  // rows of op(W)
  int cols = 0;  // columns of op(W) = dimension of the direction
  bool transposed = false;
};

// A metric M for the operator M^T A M: M and its transpose, both cols x cols row-major, so that
// both products with it run untransposed (a skinny product with a transposed operand is slower).
// For a symmetric M, m == m_t. `exponent` is range_exponent(M) (scaled_blocks.hpp), found once by
// whoever builds the metric: one layer's metric serves every expert, and scanning its d^2 entries
// per expert would read 205 MB per solve at d 7168.
// `lower`: M is lower triangular with a zero strict upper triangle (a Cholesky factor), so its
// products run as triangular ones (Backend::trmm_lower_right) on M alone, reading half of it;
// m_t is then not read (and may be null).
struct Metric {
  const float* m = nullptr;
  const float* m_t = nullptr;
  int exponent = 0;
  bool lower = false;
};

struct PrincipalOptions {
  int block = 8;      // block size; the Rayleigh-Ritz subspace holds up to 3x this; 1: Krylov
  double tol = 1e-6;  // on sin(theta) between iterates
  int max_iter = 1000;
  unsigned seed = 0x5eed;  // start block (deterministic)
};

struct PrincipalResult {
  std::vector<float> v;  // unit vector, length cols; sign so that dot(v, sign_ref) >= 0
  double sigma = 0;      // top singular value of the stacked op(W)
  double sigma2 = 0;     // second singular value estimate (gap diagnostics); 0 for block 1
  int iterations = 0;
  double residual = 0;  // ||A v - sigma^2 v|| / sigma^2
  bool converged = false;
};

}  // namespace moerecal::linalg
