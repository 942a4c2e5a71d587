// The Gram product Zt += (op(W)^T op(W) X)^T against a double-precision triple loop: the CPU
// backend's (fused kernel for up to 4 columns, BLAS past that), the base class' two-gemm version
// and the AVX-512 kernel on its own (where the CPU has it); and its f64 form for one column (the
// power steps) to f64 precision, fused and through gemv_f64.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "../lapack_oracle.hpp"
#include "linalg/backend.hpp"
#include "linalg/gram_kernel.hpp"

using namespace moerecal::linalg;
using moerecal::test::randn;

namespace {

struct Case {
  int rows, d, k;
  bool transposed;
};

// Random W, X^T and the starting Z^T of a case.
struct Inputs {
  std::vector<float> w, xt, zt0;
  Inputs(const Case& c, unsigned seed)
      : w(randn(std::size_t(c.rows) * c.d, seed)),
        xt(randn(std::size_t(c.k) * c.d, seed + 1)),
        zt0(randn(std::size_t(c.k) * c.d, seed + 2)) {}
};

// zt0 + (op(W)^T op(W) X)^T in double; W is rows x d, or d x rows when transposed.
std::vector<double> reference(const Case& c, const std::vector<float>& w,
                              const std::vector<float>& xt, const std::vector<float>& zt0) {
  auto op = [&](int i, int j) {  // op(W)[i, j], i < rows, j < d
    return double{c.transposed ? w[std::size_t(j) * c.rows + i] : w[std::size_t(i) * c.d + j]};
  };
  std::vector<double> out(zt0.begin(), zt0.end());
  for (int col = 0; col < c.k; ++col) {
    for (int i = 0; i < c.rows; ++i) {
      double y = 0;
      for (int j = 0; j < c.d; ++j) y += op(i, j) * xt[std::size_t(col) * c.d + j];
      for (int j = 0; j < c.d; ++j) out[std::size_t(col) * c.d + j] += op(i, j) * y;
    }
  }
  return out;
}

void check_close(const std::vector<float>& got, const std::vector<double>& want) {
  double scale = 0;
  for (double v : want) scale = std::max(scale, std::abs(v));
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHECK(std::abs(got[i] - want[i]) <= 1e-5 * scale);
}

const Case kCases[] = {{1, 1, 1, false},   {3, 17, 1, false},   {7, 33, 2, false},
                       {5, 16, 3, false},  {64, 100, 4, false}, {9, 40, 5, false},
                       {33, 31, 7, false}, {6, 20, 2, true},    {13, 29, 4, true},
                       {8, 18, 6, true}};

}  // namespace

TEST_SUITE("linalg") {
  TEST_CASE("gram_accumulate: the CPU backend and the base two-gemm version match double loops") {
    auto be = make_backend();
    unsigned seed = 1;
    for (const Case& c : kCases) {
      CAPTURE(c.rows);
      CAPTURE(c.d);
      CAPTURE(c.k);
      CAPTURE(c.transposed);
      const auto [w, xt, zt0] = Inputs(c, seed += 3);
      const std::vector<double> want = reference(c, w, xt, zt0);
      std::vector<float> zt = zt0;
      be->gram_accumulate(w.data(), c.rows, c.d, c.transposed, c.k, xt.data(), zt.data());
      check_close(zt, want);
      zt = zt0;
      be->Backend::gram_accumulate(w.data(), c.rows, c.d, c.transposed, c.k, xt.data(), zt.data());
      check_close(zt, want);
    }
  }

  TEST_CASE("gram_fused: the AVX-512 kernel matches double loops, or declines and leaves Z") {
    unsigned seed = 100;
    for (const Case& c : kCases) {
      if (c.transposed) continue;
      CAPTURE(c.rows);
      CAPTURE(c.d);
      CAPTURE(c.k);
      const auto [w, xt, zt0] = Inputs(c, seed += 3);
      std::vector<float> zt = zt0;
      if (gram_fused(w.data(), c.rows, c.d, c.k, xt.data(), zt.data())) {
        CHECK(c.k <= kGramMaxColumns);
        check_close(zt, reference(c, w, xt, zt0));
      } else {
        CHECK(zt == zt0);
      }
    }
    std::vector<float> z(8, 1.0f);
    const std::vector<float> one(8, 1.0f);
    CHECK_FALSE(gram_fused(one.data(), 1, 8, 0, one.data(), z.data()));
    CHECK_FALSE(gram_fused(one.data(), 1, 1, kGramMaxColumns + 1, one.data(), z.data()));
    CHECK(z == one);
  }

  TEST_CASE("gram_accumulate_f64: CPU (fused) and base (gemv_f64) match double loops to 1e-13") {
    auto be = make_backend();
    unsigned seed = 200;
    for (Case c : kCases) {
      c.k = 1;
      CAPTURE(c.rows);
      CAPTURE(c.d);
      CAPTURE(c.transposed);
      const auto [w, xt, zt0] = Inputs(c, seed += 3);
      const std::vector<double> want = reference(c, w, xt, zt0);
      const std::vector<double> x(xt.begin(), xt.end());
      double scale = 0;
      for (double v : want) scale = std::max(scale, std::abs(v));
      for (bool fused : {true, false}) {
        CAPTURE(fused);
        std::vector<double> z(zt0.begin(), zt0.end());
        if (fused) {
          be->gram_accumulate_f64(w.data(), c.rows, c.d, c.transposed, x.data(), z.data());
        } else {
          be->Backend::gram_accumulate_f64(w.data(), c.rows, c.d, c.transposed, x.data(), z.data());
        }
        for (int j = 0; j < c.d; ++j) CHECK(std::abs(z[j] - want[j]) <= 1e-13 * scale);
      }
    }
  }
}
