// The principal-direction solver for a block of 1 (principal.hpp, PrincipalOptions::block): a
// Krylov method with a full basis. Internal to linalg.
#pragma once

#include "linalg/principal_types.hpp"
#include "linalg/ritz.hpp"

namespace moerecal::linalg {

// Top eigenvector of each of the operator's op.sets() operators, to opt.tol on sin(theta) between
// successive Ritz vectors, from the same seeded Gaussian start. The solves run side by side: each
// iteration applies A once to the new vector of every unconverged one, so the metric's products
// serve them all at once. v is unsigned (the caller applies the sign rule); sigma and the residual
// are the Ritz pair's, from the basis' A-images (no further product); sigma2 is 0 (the second Ritz
// value of a Krylov space converges late, so it is no estimate worth reporting).
std::vector<PrincipalResult> krylov_directions(Backend& be, ritz::GramOperator& op, int d,
                                               const PrincipalOptions& opt);

}  // namespace moerecal::linalg
