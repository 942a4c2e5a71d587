// Principal right singular direction of a (possibly stacked, possibly transposed) expert matrix,
// by block power (subspace) iteration with Rayleigh-Ritz on A = sum_b op(W_b)^T op(W_b), applied
// implicitly with one Gram product per block per iteration (the Gram matrix is never formed); with
// a block of 1, by a Krylov method with a full basis (krylov.hpp: one product per iteration).
// Convergence: sin(theta) between successive top Ritz vectors <= tol. Thread-compatible.
#pragma once

#include <vector>

#include "linalg/backend.hpp"

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

// `sign_ref` (length cols, may be null) fixes the sign. With `metric` (a symmetric cols x cols
// row-major M), the operator is M A M instead, still applied implicitly. Blocks (and a metric)
// whose largest |entry| lies outside [2^-16, 2^16] are scaled by a power of two before any
// product is formed (scaled_blocks.hpp), so huge but finite weights cannot overflow f32; sigma is
// scaled back. Throws BackendError on BLAS failure.
PrincipalResult principal_direction(Backend& be, const std::vector<MatrixBlock>& blocks,
                                    const float* sign_ref, const PrincipalOptions& opt = {},
                                    const float* metric = nullptr);

// The solver itself, without the scaling: the caller guarantees that A's products stay in range.
PrincipalResult principal_direction_unscaled(Backend& be, const std::vector<MatrixBlock>& blocks,
                                             const float* sign_ref, const PrincipalOptions& opt,
                                             const float* metric);

}  // namespace moerecal::linalg
