// A checkpoint with its architecture: config.json parsed into a ModelSpec by its family, and
// every tensor the spec implies checked against the safetensors headers.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string_view>

#include "io/checkpoint.hpp"
#include "model/spec.hpp"

namespace moerecal::model {

// Reads config.json. Throws FormatError naming `label` and the key for a missing or wrongly typed
// key, and for an unsupported model_type (the message lists the supported ones).
ModelSpec parse_config(const nlohmann::json& config, std::string_view label);

// Cross-checks the checkpoint against the spec: every tensor the family's description names
// present with its shape and a float dtype (F32/F16/BF16); no routed-expert tensor the
// description does not name; router values finite. Collects every problem, then throws one
// ShapeError/FormatError naming the file and tensor of each ("expected [8, 64], found [8, 32]").
void check_checkpoint(const ModelSpec& spec, const io::Checkpoint& ckpt);

// A checkpoint together with its parsed and checked spec. Read-only; thread-safe after open().
struct MoeModel {
  io::Checkpoint ckpt;
  ModelSpec spec;
  static MoeModel open(const std::filesystem::path& dir);
};

}  // namespace moerecal::model
