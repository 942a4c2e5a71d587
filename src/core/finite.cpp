#include "core/finite.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace moerecal {
namespace {

bool all_finite(const float* v, std::size_t n) {
  std::uint32_t bad = 0;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t bits;
    std::memcpy(&bits, v + i, sizeof bits);
    bad |= static_cast<std::uint32_t>((bits & 0x7f800000u) == 0x7f800000u);  // exponent all ones
  }
  return bad == 0;
}

}  // namespace

std::size_t first_non_finite(const float* v, std::size_t n) {
  constexpr std::size_t kChunk = 4096;
  for (std::size_t at = 0; at < n; at += kChunk) {
    const std::size_t end = std::min(n, at + kChunk);
    if (all_finite(v + at, end - at)) continue;
    for (std::size_t i = at; i < end; ++i) {
      if (!std::isfinite(v[i])) return i;
    }
  }
  return n;
}

}  // namespace moerecal
