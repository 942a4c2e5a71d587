// Row-wise kernels of the forward pass, fp32 on the host. x is row-major [n, d]. Pure functions.
#pragma once

#include <cstddef>
#include <vector>

namespace moerecal::engine {

// y = w * x / sqrt(mean(x^2) + eps), per row of width d (in place allowed).
void rms_norm(const float* x, const float* w, float* y, std::size_t n, int d, double eps);

// Softmax of x[lo, hi) in place (max-shifted, float exponentials within 2 ulp, double sum); the
// rest of the row [0, n) is set to 0, as a masked softmax gives. With `sink` (gpt-oss) one more
// logit takes part in the max and the sum, then is dropped: the row sums to less than 1.
void causal_softmax_row(float* x, int lo, int hi, int n, const float* sink = nullptr);

// log_softmax over a row of width d into out.
void log_softmax_row(const float* x, float* out, int d);

// g <- silu(g) * u = g / (1 + e^-g) * u elementwise (SwiGLU's gate times up), vectorized.
void silu_mul(float* g, const float* u, std::size_t n);

// A thread's scratch buffer for the products of the forward pass: scratch() grows it to at least
// n floats and never zeroes it (every caller overwrites what it uses), so the many expert
// products of a layer reuse one allocation per worker; release_large() gives it back when it
// grew past 64 MiB, so a one-off large product (a dense layer's MLP over all tokens) does not
// stay resident for the rest of the run.
float* scratch(std::vector<float>& buf, std::size_t n);
void release_large(std::vector<float>& buf);

}  // namespace moerecal::engine
