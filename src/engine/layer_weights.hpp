// One decoder layer's weights widened to f32 (DESIGN.md §5: only one layer is resident). Names
// come from the model's family table; absent optional tensors (biases, norms) stay empty.
#pragma once

#include <vector>

#include "model/model_spec.hpp"

namespace moerecal::engine {

struct Mlp {
  std::vector<float> gate, up, down;  // [w, d], [w, d], [d, w]
  int width = 0;
};

struct LayerWeights {
  std::vector<float> input_norm, post_norm;
  std::vector<float> q, k, v, o, q_bias, k_bias, v_bias, o_bias, q_norm, k_norm;
  std::vector<float> router;       // [E, d]; empty for a dense layer
  std::vector<Mlp> experts;        // routed experts
  Mlp dense;                       // dense layer MLP
  Mlp shared;                      // Qwen2-MoE shared expert
  std::vector<float> shared_gate;  // [1, d]
};

// Reads layer `layer` into `w`, reusing its buffers: layers of one model have the same shapes,
// so streaming through them refills the same memory instead of allocating and clearing it per
// layer. Throws FormatError naming the tensor when one cannot be read.
void load_layer(const model::MoeModel& m, int layer, LayerWeights& w);

}  // namespace moerecal::engine
