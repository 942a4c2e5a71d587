// The feed-forward half of a layer: routed experts (softmax over all experts, top-k,
// renormalised iff norm_topk_prob), Qwen2-MoE's sigmoid-gated shared expert, or a dense MLP.
#pragma once

#include <vector>

#include "engine/forward.hpp"
#include "engine/layer_weights.hpp"

namespace moerecal::engine {

// SwiGLU MLP on rows x [n, d]; adds scale[r] * mlp(x_r) into out rows (scale null = 1).
void swiglu_add(linalg::Backend& be, const Mlp& w, const float* x, int n, int d, const float* scale,
                float* out);

// x: [T, d] router inputs; adds the block's output into out [T, d]; reports to the observer.
void moe_block(linalg::Backend& be, const model::ModelSpec& s, const LayerWeights& w,
               const std::vector<float>& router, int layer, const float* x, int T, float* out,
               Observer* observer);

}  // namespace moerecal::engine
