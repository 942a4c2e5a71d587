// Rotary position embedding (ARCHITECTURES.md §8): inverse frequencies (default or YaRN), the
// YaRN attention factor on cos/sin, rotate_half pairs (i, i + dim/2) over the leading `dim`
// dimensions of each head (partial rotary), de-interleaving first for DeepSeek's layout.
#pragma once

#include <vector>

#include "model/spec.hpp"

namespace moerecal::engine {

struct RopeTables {
  std::vector<double> inv_freq;   // [dim / 2]
  float attention_factor = 1.0f;  // multiplies cos and sin
  int dim = 0;
  bool interleaved = false;
};

RopeTables rope_tables(const model::RopeSpec& rope);

// Rotates dimensions [offset, offset + dim) of each of `heads` heads (`stride` apart) of one row
// at position `pos`.
void apply_rope(float* x, int heads, int stride, int offset, int pos, const RopeTables& t);

}  // namespace moerecal::engine
