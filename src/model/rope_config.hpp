// RoPE settings of config.json: rope_theta, and rope_scaling (or transformers v5's
// rope_parameters) with its type. Types the engine does not implement are refused, naming the
// type, never silently ignored.
#pragma once

#include "model/config_reader.hpp"
#include "model/spec.hpp"

namespace moerecal::model {

// Fills theta and the scaling (none or YaRN) of `rope`; `theta_default` when the config gives no
// theta. Throws FormatError naming the key for an unsupported type or a malformed value.
void read_rope(const ConfigReader& cfg, double theta_default, RopeSpec& rope);

}  // namespace moerecal::model
