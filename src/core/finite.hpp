// The finiteness scan behind every "expected finite" check on a large float array (weights as
// they are widened, activations after each block).
#pragma once

#include <cstddef>

namespace moerecal {

// Index of the first NaN or infinity of v[0, n), or n when all are finite. Scans in chunks with a
// branch-free test on the exponent bits (vectorised; std::isfinite with an early exit is not), and
// looks for the index only inside a chunk that holds one.
std::size_t first_non_finite(const float* v, std::size_t n);

}  // namespace moerecal
