// The SwiGLU MLP of dense layers, routed experts and shared experts (DESIGN.md §1):
// down(silu(gate x) * up x), three GEMMs through the backend.
#pragma once

#include "engine/layer_weights.hpp"
#include "linalg/backend.hpp"

namespace moerecal::engine {

// Rows x [n, d]; adds scale[r] * mlp(x_r) into out rows (scale null = 1).
void swiglu_add(linalg::Backend& be, const Mlp& w, const float* x, int n, int d, const float* scale,
                float* out);

}  // namespace moerecal::engine
