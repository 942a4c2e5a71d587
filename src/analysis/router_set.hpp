// The routers of a checkpoint: one [E, d] matrix per MoE layer, widened to f32, with the dtype
// it is stored in.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/dtype.hpp"
#include "model/model.hpp"

namespace moerecal::analysis {

// A router bias [E] as stored (empty tensor name: the family has none).
struct RouterBias {
  std::string tensor;
  DType dtype = DType::kF32;
  std::vector<float> values;
};

struct RouterLayer {
  int layer = 0;
  std::string tensor;  // Hugging Face name, verbatim
  DType dtype = DType::kF32;
  int n_experts = 0;
  int hidden = 0;
  std::vector<float> rows;    // row-major [n_experts, hidden]
  RouterBias router_bias;     // added to the logits (gpt-oss)
  RouterBias selection_bias;  // chooses, does not weight (DeepSeek-V3)
};

// {"min", "mean", "max"} of a non-empty vector.
nlohmann::json value_stats(const std::vector<float>& v);

// {"kind": "router" | "selection", "tensor", "dtype", "min", "mean", "max"}; null when the family
// has no such bias.
nlohmann::json to_json(const RouterBias& b, const char* kind);

// Reads every MoE layer's router (weight and biases), in layer order. Throws FormatError naming
// the tensor.
std::vector<RouterLayer> load_routers(const model::MoeModel& m);

}  // namespace moerecal::analysis
