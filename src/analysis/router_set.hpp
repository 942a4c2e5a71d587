// The routers of a checkpoint: one [E, d] matrix per MoE layer, widened to f32, with the dtype
// it is stored in.
#pragma once

#include <string>
#include <vector>

#include "core/dtype.hpp"
#include "model/model.hpp"

namespace moerecal::analysis {

struct RouterLayer {
  int layer = 0;
  std::string tensor;  // Hugging Face name, verbatim
  DType dtype = DType::kF32;
  int n_experts = 0;
  int hidden = 0;
  std::vector<float> rows;  // row-major [n_experts, hidden]
};

// Reads every MoE layer's router, in layer order. Throws FormatError naming the tensor.
std::vector<RouterLayer> load_routers(const model::MoeModel& m);

}  // namespace moerecal::analysis
