// Row-wise kernels of the forward pass, fp32 on the host. x is row-major [n, d]. Pure functions.
#pragma once

#include <cstddef>

namespace moerecal::engine {

// y = w * x / sqrt(mean(x^2) + eps), per row of width d (in place allowed).
void rms_norm(const float* x, const float* w, float* y, std::size_t n, int d, double eps);

// Softmax of x[lo, hi) in place (max-shifted, float exponentials, double sum); the rest of the
// row [0, n) is set to 0, as a masked softmax gives. With `sink` (gpt-oss) one more logit takes
// part in the max and the sum, then is dropped: the row sums to less than 1.
void causal_softmax_row(float* x, int lo, int hi, int n, const float* sink = nullptr);

// log_softmax over a row of width d into out.
void log_softmax_row(const float* x, float* out, int d);

float silu(float x);

}  // namespace moerecal::engine
