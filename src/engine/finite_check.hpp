// Activations checked as the forward pass makes them: a checkpoint whose weights are finite but
// huge (corrupt bytes, a broken export) overflows f32 in some layer and would otherwise hand
// NaN to every later computation (LAPACK included). Found, it is bad input: a FormatError that
// names the layer and the weight of that layer with the largest magnitude, the likely culprit.
#pragma once

#include <cstddef>

#include "model/model.hpp"

namespace moerecal::engine {

// Throws FormatError when one of the n values at v is NaN or infinite: "<file>: tensor '<name>':
// element N is 3.4e+38, the largest weight of layer L, and the layer's <stage> are not finite
// (expected weights that keep f32 activations finite)".
void require_finite_activations(const model::MoeModel& m, int layer, const char* stage,
                                const float* v, std::size_t n);

}  // namespace moerecal::engine
