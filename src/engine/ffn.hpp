// Dense products through the backend: a linear layer, and the SwiGLU MLP of dense layers, routed
// experts and shared experts (DESIGN.md §1): down(silu(gate x) * up x).
#pragma once

#include "engine/layer_weights.hpp"
#include "linalg/backend.hpp"

namespace moerecal::engine {

// y [T, n] = x [T, d] W^T (+ b), W [n, d] (b may be empty).
void linear(linalg::Backend& be, const float* x, int T, int d, const std::vector<float>& w, int n,
            const std::vector<float>& b, float* y);

// Rows x [n, d]; y [n, d] = mlp(x) (overwritten). `act`: SwiGLU, or gpt-oss's clamped variant;
// the MLP's biases (when it has them) follow each projection.
void swiglu(linalg::Backend& be, const Mlp& w, const float* x, int n, int d, float* y,
            const model::ExpertActivation& act = {});

// Rows x [n, d]; adds scale[r] * mlp(x_r) into out rows (scale null = 1). `act`: SwiGLU, or
// gpt-oss's clamped variant; the MLP's biases (when it has them) follow each projection.
void swiglu_add(linalg::Backend& be, const Mlp& w, const float* x, int n, int d, const float* scale,
                float* out, const model::ExpertActivation& act = {});

}  // namespace moerecal::engine
