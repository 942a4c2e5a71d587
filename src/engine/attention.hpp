// Self-attention of one sequence for one layer (GQA, causal, optional sliding window, q/k/v/o
// biases, qk-norm over the whole projection or per head, clip_qkv, rotary embedding).
#pragma once

#include <vector>

#include "engine/layer_weights.hpp"
#include "linalg/backend.hpp"

namespace moerecal::engine {

// x: [T, d] normed inputs of one sequence; adds the attention output into `out` [T, d]. The
// heads run side by side on the backend's workers.
void attention(linalg::Backend& be, const model::ModelSpec& s, const AttentionWeights& w,
               const std::vector<double>& inv_freq, const float* x, int T, float* out);

}  // namespace moerecal::engine
