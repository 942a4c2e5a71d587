// first_non_finite against a plain std::isfinite scan: every special value at chunk edges and
// inside chunks, and arrays of every length around the chunk size.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "core/finite.hpp"

namespace {

std::size_t scan(const std::vector<float>& v) {
  std::size_t i = 0;
  while (i < v.size() && std::isfinite(v[i])) ++i;
  return i;
}

}  // namespace

TEST_SUITE("core") {
  TEST_CASE("first_non_finite finds the first NaN or infinity wherever it sits") {
    const float specials[] = {
        std::numeric_limits<float>::quiet_NaN(), -std::numeric_limits<float>::quiet_NaN(),
        std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity()};
    for (std::size_t n : {0u, 1u, 7u, 4095u, 4096u, 4097u, 10000u}) {
      std::vector<float> v(n, 1.5f);
      if (n > 2) v[1] = std::numeric_limits<float>::max();  // finite extremes stay finite
      if (n > 3) v[2] = std::numeric_limits<float>::denorm_min();
      CHECK(moerecal::first_non_finite(v.data(), n) == n);
      for (std::size_t at : {std::size_t{0}, n / 2, n - 1, std::size_t{4095}, std::size_t{4096}}) {
        if (at >= n) continue;
        for (float s : specials) {
          std::vector<float> w = v;
          w[at] = s;
          if (at + 5 < n) w[at + 5] = specials[0];  // a later one must not be reported
          CHECK(moerecal::first_non_finite(w.data(), n) == scan(w));
          CHECK(scan(w) == at);
        }
      }
    }
  }
}
