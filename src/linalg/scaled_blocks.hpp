// Power-of-two scaling of operator blocks before any product is formed. A checkpoint whose expert
// weights are huge but finite (say 1e30: corrupt bytes, or a bad export) would overflow f32 in
// op(W)^T op(W) x and hand NaN to LAPACK; scaled by 2^-e first (exact: only exponents move), the
// products stay in range, the directions are unchanged and singular values scale by 2^e.
// Thread-compatible; the input blocks must outlive the result when it did not copy them.
#pragma once

#include <cstddef>
#include <vector>

#include "linalg/principal.hpp"

namespace moerecal::linalg {

// Entries up to 2^kScaleRange in magnitude (and down to 2^-kScaleRange) are used as they are.
inline constexpr int kScaleRange = 16;

// 0 when max |v| lies within [2^-kScaleRange, 2^kScaleRange] (or is 0), else e with
// max |v| * 2^-e in [0.5, 1). Non-finite entries are the caller's to refuse before this.
int range_exponent(const float* v, std::size_t n);

struct ScaledBlocks {
  std::vector<MatrixBlock> blocks;  // the input's, or views of `storage`
  int exponent = 0;                 // every block was multiplied by 2^-exponent
  std::vector<std::vector<float>> storage;
};

// One exponent for all blocks (their sum is the operator); copies only when it is not 0.
// principal_direction() (principal.hpp) is this plus principal_direction_batch_unscaled().
ScaledBlocks scale_blocks(const std::vector<MatrixBlock>& blocks);

// v * 2^-e into out (resized).
void scaled_copy(const float* v, std::size_t n, int e, std::vector<float>& out);

}  // namespace moerecal::linalg
