// The routers of a checkpoint: one [E, d] matrix per MoE layer, widened to f32, with the dtype
// they are stored in; their identity (router_id) and version (from router-changelog.json).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "model/model_spec.hpp"

namespace moerecal::recal {

struct RouterLayer {
  int layer = 0;
  std::string tensor;  // Hugging Face name, verbatim
  DType dtype = DType::kF32;
  int n_experts = 0;
  int hidden = 0;
  std::vector<float> rows;  // row-major [n_experts, hidden]
};

// Reads every MoE layer's router, in layer order.
std::vector<RouterLayer> load_routers(const model::MoeModel& m);

// "sha256:<hex>" of the router tensors' stored bytes, concatenated in layer order.
std::string router_id(const model::MoeModel& m);

// Version of the checkpoint's router: the newest entry of <dir>/router-changelog.json, or 0 when
// the file is absent. Throws FormatError naming the file when it is malformed.
int router_version(const std::filesystem::path& dir);

// The "entries" array of <dir>/router-changelog.json (empty when the file is absent). Throws
// FormatError naming the file when it is malformed.
nlohmann::json read_changelog_entries(const std::filesystem::path& dir);

}  // namespace moerecal::recal
