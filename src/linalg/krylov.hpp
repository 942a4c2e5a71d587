// The principal-direction solver for a block of 1 (principal.hpp, PrincipalOptions::block): a
// Krylov method with a full basis. Internal to linalg.
#pragma once

#include "linalg/principal_types.hpp"
#include "linalg/ritz.hpp"

namespace moerecal::linalg {

// Top eigenvector of the operator, to opt.tol on sin(theta) between successive Ritz vectors, from
// a seeded Gaussian start. v is unsigned (the caller applies the sign rule); sigma and the
// residual are the Ritz pair's, from the basis' A-images (no further product); sigma2 is 0 (the
// second Ritz value of a Krylov space converges late, so it is no estimate worth reporting).
PrincipalResult krylov_direction(Backend& be, ritz::GramOperator& op, int d,
                                 const PrincipalOptions& opt);

}  // namespace moerecal::linalg
