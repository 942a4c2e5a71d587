// The MoE half of a layer: the router's logits, the family's routing rule (model::route), the
// routed experts as grouped GEMMs over the tokens each receives, and the shared expert (sigmoid-
// gated for Qwen2-MoE).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "engine/forward.hpp"
#include "engine/layer_weights.hpp"

namespace moerecal::engine {

// Memory a forward pass lends its MoE blocks, layer after layer: every routed expert's output
// for the layer's tokens (T k rows of d), kept so that the next layer writes into pages already
// mapped instead of faulting in fresh ones. Uninitialised: each expert overwrites its rows.
class MoeWorkspace {
 public:
  float* expert_out(std::size_t n) {
    if (n > capacity_) {
      data_.reset(new float[n]);
      capacity_ = n;
    }
    return data_.get();
  }

 private:
  std::unique_ptr<float[]> data_;
  std::size_t capacity_ = 0;
};

// x: [T, d] router inputs; adds the block's output into out [T, d]; reports to the observer.
// Every token is routed; only the tokens t with `apply[t]` run their routed experts (all when
// `apply` is null).
void moe_block(linalg::Backend& be, const model::ModelSpec& s, const LayerWeights& w,
               const RouterWeights& router, int layer, const float* x, int T, float* out,
               Observer* observer, MoeWorkspace& ws, const std::vector<char>* apply = nullptr);

}  // namespace moerecal::engine
