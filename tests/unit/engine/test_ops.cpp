// The row kernels' exponentials (exp_f32 inside silu_mul and causal_softmax_row) against double
// precision: within a few ulp over the range the forward pass meets, the clamps harmless, NaN kept.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "engine/ops.hpp"

using namespace moerecal::engine;

namespace {

// |got - want| in units of float's epsilon at want's magnitude.
double ulps(float got, double want) {
  return std::abs(got - want) / (std::numeric_limits<float>::epsilon() * std::abs(want));
}

}  // namespace

TEST_SUITE("engine") {
  TEST_CASE("silu_mul: g / (1 + e^-g) * u within 4 ulp from -80 to 80, and NaN stays NaN") {
    std::vector<float> g, u;
    for (double x = -80; x <= 80; x += 0.01) g.push_back(float(x)), u.push_back(float(1 + x / 160));
    const std::vector<float> g0 = g;
    silu_mul(g.data(), u.data(), g.size());
    double worst = 0;
    for (std::size_t i = 0; i < g.size(); ++i) {
      const double x = g0[i], want = x / (1 + std::exp(-x)) * u[i];
      if (want != 0) worst = std::max(worst, ulps(g[i], want));
    }
    CHECK(worst <= 4);
    std::vector<float> big{-200.0f, 200.0f, std::nanf("")}, one(3, 1.0f);
    silu_mul(big.data(), one.data(), 3);
    CHECK(std::abs(big[0]) < 1e-30f);  // e^200 is clamped to e^88: still 0 to float precision
    CHECK(big[1] == 200.0f);
    CHECK(std::isnan(big[2]));
  }

  TEST_CASE("causal_softmax_row: each probability within 4 ulp of the double softmax") {
    const int n = 37, lo = 3, hi = 30;
    std::vector<float> x(n);
    for (int i = 0; i < n; ++i) x[i] = float(std::sin(i * 1.7) * 30 - i);  // spread over ~60
    for (const bool sink : {false, true}) {
      CAPTURE(sink);
      const float s = 4.5f;
      std::vector<float> p = x;
      causal_softmax_row(p.data(), lo, hi, n, sink ? &s : nullptr);
      // The exponent x - max is a float difference in the kernel (as in any f32 softmax); the
      // reference takes the same difference and exponentiates and sums in double.
      float mx = sink ? s : -1e30f;
      for (int i = lo; i < hi; ++i) mx = std::max(mx, x[i]);
      auto e = [&](float v) { return std::exp(double{v - mx}); };
      double sum = sink ? e(s) : 0.0;
      for (int i = lo; i < hi; ++i) sum += e(x[i]);
      for (int i = 0; i < n; ++i) {
        CAPTURE(i);
        if (i < lo || i >= hi) {
          CHECK(p[i] == 0.0f);
        } else if (e(x[i]) / sum > 1e-30) {
          CHECK(ulps(p[i], e(x[i]) / sum) <= 4);
        }
      }
    }
  }
}
