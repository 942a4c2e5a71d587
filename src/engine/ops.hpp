// Row-wise kernels of the forward pass, fp32 on the host. x is row-major [n, d]. Pure functions.
#pragma once

#include <cstddef>
#include <vector>

namespace moerecal::engine {

// y = w * x / sqrt(mean(x^2) + eps), per row of width d (in place allowed).
void rms_norm(const float* x, const float* w, float* y, std::size_t n, int d, double eps);

// Softmax of x[lo, hi) in place (max-shifted, float exponentials, double sum); the rest of the
// row [0, n) is set to 0, as a masked softmax gives.
void causal_softmax_row(float* x, int lo, int hi, int n);

// log_softmax over a row of width d into out.
void log_softmax_row(const float* x, float* out, int d);

float silu(float x);

// Rotary embedding (rotate_half convention) on a row of `heads` heads of width hd at position
// pos: dimension i pairs with i + hd/2, angle pos * inv_freq[i].
void rope_row(float* x, int heads, int hd, int pos, const std::vector<double>& inv_freq);

// inv_freq[i] = theta^(-2i/dim), i < dim/2.
std::vector<double> rope_inv_freq(double theta, int dim);

}  // namespace moerecal::engine
