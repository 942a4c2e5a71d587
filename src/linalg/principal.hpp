// Principal right singular direction of a (possibly stacked, possibly transposed) expert matrix,
// by block power (subspace) iteration with Rayleigh-Ritz on A = sum_b op(W_b)^T op(W_b), applied
// implicitly with one Gram product per block per iteration (the Gram matrix is never formed); with
// a block of 1, by a Krylov method with a full basis (krylov.hpp: one product per iteration).
// Convergence: sin(theta) between successive top Ritz vectors <= tol. Thread-compatible.
#pragma once

#include <vector>

#include "linalg/backend.hpp"
#include "linalg/principal_types.hpp"

namespace moerecal::linalg {

// `sign_ref` (length cols, may be null) fixes the sign. With `metric` (M, e.g. a Cholesky factor,
// and M^T), the operator is M^T A M instead, still applied implicitly. Blocks (and a metric)
// whose largest |entry| lies outside [2^-16, 2^16] are scaled by a power of two before any
// product is formed (scaled_blocks.hpp), so huge but finite weights cannot overflow f32; sigma is
// scaled back. Throws BackendError on BLAS failure.
PrincipalResult principal_direction(Backend& be, const std::vector<MatrixBlock>& blocks,
                                    const float* sign_ref, const PrincipalOptions& opt = {},
                                    const Metric* metric = nullptr);

// The directions of several operators sharing one metric (sets[i], signed by sign_refs[i], which
// may be null): principal_direction() for each, except that with a block of 1 the Krylov solves
// run side by side, so each product with the metric multiplies one vector of every unconverged
// solve at once (a triangular metric of d 7168 is read once per iteration for all of them, not
// once per operator). On the CPU backend each result is the same bits as a separate call (its
// triangular product sums every row on its own); another backend may round those products
// differently.
std::vector<PrincipalResult> principal_direction_batch(
    Backend& be, const std::vector<const std::vector<MatrixBlock>*>& sets,
    const std::vector<const float*>& sign_refs, const PrincipalOptions& opt = {},
    const Metric* metric = nullptr);

// The solvers themselves, without the scaling: the caller guarantees that A's products stay in
// range.
std::vector<PrincipalResult> principal_direction_batch_unscaled(
    Backend& be, const std::vector<const std::vector<MatrixBlock>*>& sets,
    const std::vector<const float*>& sign_refs, const PrincipalOptions& opt, const Metric* metric);

}  // namespace moerecal::linalg
