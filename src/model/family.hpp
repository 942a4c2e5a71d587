// A model family (ARCHITECTURES.md §1-§7): its config.json model types, how its config keys fill
// a ModelSpec, and the Hugging Face names and shapes of its tensors. Adding a family is one
// family_<name>.cpp defining a Family, plus its line in the table of families.cpp; new math goes
// into new operation files of the engine.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "model/config_reader.hpp"
#include "model/spec.hpp"
#include "model/tensors.hpp"

namespace moerecal::model {

struct Family {
  std::vector<std::string_view> model_types;  // config.json "model_type" values it reads
  // Fills the family's keys into `s` (the common keys are already read). Throws FormatError.
  void (*read_config)(const ConfigReader& cfg, ModelSpec& s);
  // Every tensor of decoder layer `layer`, with the shapes the spec implies.
  LayerTensors (*layer_tensors)(const ModelSpec& s, int layer);
};

// The table, in the order `supported_model_types` lists them.
const std::vector<const Family*>& families();

// "mixtral, olmoe, qwen2_moe, qwen3_moe"
std::string supported_model_types();

}  // namespace moerecal::model
