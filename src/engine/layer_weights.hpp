// One decoder layer's weights widened to f32 (DESIGN.md §5: only one layer is resident), read
// through the model's typed weight access from the names its family gives. Absent optional
// tensors (biases, norms) stay empty.
#pragma once

#include <vector>

#include "engine/experts.hpp"
#include "model/model.hpp"
#include "model/tensors.hpp"

namespace moerecal::engine {

struct AttentionWeights {
  std::vector<float> q, k, v, o, q_bias, k_bias, v_bias, o_bias, q_norm, k_norm;
  // MLA (DeepSeek)
  std::vector<float> q_a, q_a_bias, q_a_norm, q_b, kv_a, kv_a_bias, kv_a_norm, kv_b;
  std::vector<float> sinks;  // [H] (gpt-oss)
};

// A router as the engine runs it: rows [E, d], and the biases its routing rule uses ([E] each,
// empty when the rule has none).
struct RouterWeights {
  std::vector<float> rows, router_bias, selection_bias;
};

struct LayerWeights {
  model::LayerTensors tensors;  // what was read, by name
  std::vector<float> input_norm, post_norm;
  AttentionWeights attn;
  RouterWeights router;            // rows empty for a dense layer
  ExpertBank experts;              // routed experts
  Mlp dense;                       // dense layer MLP
  Mlp shared;                      // shared expert
  std::vector<float> shared_gate;  // [1, d]
};

// Reads layer `layer` into `w`, reusing its buffers: layers of one model have the same shapes,
// so streaming through them refills the same memory instead of allocating and clearing it per
// layer. The routed experts are kept widened when they fit `expert_memory` bytes, else streamed
// (experts.hpp). Throws FormatError naming the tensor when one cannot be read or holds a
// non-finite value.
void load_layer(const model::MoeModel& m, linalg::Backend& be, int layer, std::size_t expert_memory,
                LayerWeights& w);

}  // namespace moerecal::engine
