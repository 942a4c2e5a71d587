// The MoE half of a layer: the router's logits, the family's routing rule (model::route), the
// routed experts as grouped GEMMs over the tokens each receives, and the shared expert (sigmoid-
// gated for Qwen2-MoE).
#pragma once

#include <vector>

#include "engine/forward.hpp"
#include "engine/layer_weights.hpp"

namespace moerecal::engine {

// x: [T, d] router inputs; adds the block's output into out [T, d]; reports to the observer.
void moe_block(linalg::Backend& be, const model::ModelSpec& s, const LayerWeights& w,
               const RouterWeights& router, int layer, const float* x, int T, float* out,
               Observer* observer);

}  // namespace moerecal::engine
