// bf16 and f16 conversions over every bit pattern, against double arithmetic and GCC's _Float16.
#include <doctest/doctest.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>

#include "core/dtype.hpp"

using namespace moerecal;

namespace {

// Exact value of a bf16 pattern from its fields, independent of the code under test.
double bf16_value(std::uint16_t h) {
  const int sign = h >> 15, exp = (h >> 7) & 0xff, man = h & 0x7f;
  double v = exp == 0 ? std::ldexp(man, -126 - 7) : std::ldexp(128 + man, exp - 127 - 7);
  return sign ? -v : v;
}

bool is_nan_bf16(std::uint16_t h) { return ((h >> 7) & 0xff) == 0xff && (h & 0x7f) != 0; }

}  // namespace

TEST_SUITE("core") {
  TEST_CASE("bf16 -> f32 is exact and f32 -> bf16 gives every pattern back") {
    for (std::uint32_t p = 0; p < 65536; ++p) {
      const auto h = static_cast<std::uint16_t>(p);
      const float f = bf16_to_f32(h);
      if (is_nan_bf16(h)) {
        CHECK(std::isnan(f));
        CHECK(is_nan_bf16(f32_to_bf16(f)));
        continue;
      }
      if (((h >> 7) & 0xff) == 0xff) {
        CHECK(std::isinf(f));
      } else {
        CHECK(static_cast<double>(f) == bf16_value(h));
      }
      CHECK(f32_to_bf16(f) == h);
    }
  }

  TEST_CASE("f32 -> bf16 rounds to nearest / ties to even / over all adjacent pairs") {
    for (std::uint32_t p = 0; p < 0x7f7f; ++p) {  // positive finite pairs (p, p+1)
      for (const std::uint32_t sign : {0u, 0x8000u}) {
        const auto lo = static_cast<std::uint16_t>(p | sign),
                   hi = static_cast<std::uint16_t>((p + 1) | sign);
        const double a = bf16_value(lo), b = bf16_value(hi);
        const double mid = 0.5 * (a + b);  // exact in double; representable in f32
        const float fm = static_cast<float>(mid);
        REQUIRE(static_cast<double>(fm) == mid);
        const std::uint16_t even = (lo & 1) == 0 ? lo : hi;
        CHECK(f32_to_bf16(fm) == even);
        CHECK(f32_to_bf16(std::nextafter(fm, static_cast<float>(a))) == lo);
        CHECK(f32_to_bf16(std::nextafter(fm, static_cast<float>(b))) == hi);
      }
    }
    CHECK(f32_to_bf16(3.4e38f) == 0x7f80);  // rounds up to +inf past the largest finite bf16
  }

  TEST_CASE("f16 <-> f32 over all 65536 patterns against _Float16") {
    for (std::uint32_t p = 0; p < 65536; ++p) {
      const auto h = static_cast<std::uint16_t>(p);
      _Float16 ref;
      std::memcpy(&ref, &h, 2);
      const float want = static_cast<float>(ref);
      const float got = f16_to_f32(h);
      if (std::isnan(want)) {
        CHECK(std::isnan(got));
        continue;
      }
      CHECK(std::bit_cast<std::uint32_t>(got) == std::bit_cast<std::uint32_t>(want));
      CHECK(f32_to_f16(got) == h);
    }
  }

  TEST_CASE("f32 -> f16 matches _Float16 on random values / midpoints and edge cases") {
    std::mt19937 g(1);
    std::uniform_int_distribution<std::uint32_t> bits;
    auto check = [](float x) {
      const _Float16 ref = static_cast<_Float16>(x);
      std::uint16_t want;
      std::memcpy(&want, &ref, 2);
      if (std::isnan(x)) return;
      CAPTURE(x);
      CHECK(f32_to_f16(x) == want);
    };
    for (int i = 0; i < 200000; ++i) check(std::bit_cast<float>(bits(g)));
    for (std::uint32_t p = 0; p < 0x7bff; ++p) {  // midpoints between adjacent finite f16 values
      const float a = f16_to_f32(static_cast<std::uint16_t>(p));
      const float b = f16_to_f32(static_cast<std::uint16_t>(p + 1));
      check(0.5f * (a + b));
      check(-0.5f * (a + b));
    }
    for (float x : {65504.0f, 65519.0f, 65520.0f, 1e-8f, 2.98e-8f, 5.96e-8f, 0.0f, -0.0f}) check(x);
  }

  TEST_CASE("row converters round-trip through bytes") {
    const std::vector<float> v = {1.0f, -2.5f, 3.14159f, 1e-3f, -65504.0f};
    for (DType t : {DType::kF32, DType::kF16, DType::kBF16}) {
      std::vector<std::byte> buf(v.size() * dtype_bits(t) / 8);
      narrow_from_f32(t, v.data(), buf.data(), v.size());
      std::vector<float> back(v.size());
      widen_to_f32(t, buf.data(), back.data(), v.size());
      for (std::size_t i = 0; i < v.size(); ++i) {
        const float expect = t == DType::kF32   ? v[i]
                             : t == DType::kF16 ? f16_to_f32(f32_to_f16(v[i]))
                                                : bf16_to_f32(f32_to_bf16(v[i]));
        CHECK(back[i] == expect);
      }
    }
    CHECK(parse_dtype("BF16") == DType::kBF16);
    CHECK(!parse_dtype("bf16"));
    CHECK(!parse_dtype("BF17"));
    CHECK(dtype_bits(DType::kF4) == 4);
  }
}

TEST_SUITE("core") {
  TEST_CASE("f8e4m3_to_f32 over all 256 codes against a table built from the bit fields") {
    // e4m3fn: sign, 4 exponent bits (bias 7), 3 mantissa bits; exponent 0 is subnormal
    // (m / 8 * 2^-6); S.1111.111 is NaN; no infinities.
    int nans = 0;
    for (int c = 0; c < 256; ++c) {
      CAPTURE(c);
      const int sign = c >> 7, e = (c >> 3) & 15, m = c & 7;
      const float got = moerecal::f8e4m3_to_f32(static_cast<std::uint8_t>(c));
      if (e == 15 && m == 7) {
        CHECK(std::isnan(got));
        ++nans;
        continue;
      }
      const double mag = e == 0 ? std::ldexp(m / 8.0, -6) : std::ldexp(1.0 + m / 8.0, e - 7);
      CHECK(got == static_cast<float>(sign ? -mag : mag));
    }
    CHECK(nans == 2);
    CHECK(moerecal::f8e4m3_to_f32(0x7e) == 448.0f);
    CHECK(moerecal::f8e4m3_to_f32(0x38) == 1.0f);
    CHECK(moerecal::f8e4m3_to_f32(0x01) == std::ldexp(1.0f, -9));
    CHECK(std::signbit(moerecal::f8e4m3_to_f32(0x80)));
  }

  TEST_CASE("mxfp4_block_to_f32: all 16 nibbles x scales 0..254 against the bit fields") {
    // E2M1: sign, 2 exponent bits (bias 1), 1 mantissa bit; exponent 0 is subnormal (m / 2).
    const auto e2m1 = [](int code) {
      const int sign = code >> 3, e = (code >> 1) & 3, m = code & 1;
      const double mag = e == 0 ? m / 2.0 : (1.0 + m / 2.0) * std::ldexp(1.0, e - 1);
      return sign ? -mag : mag;
    };
    for (int scale : {0, 1, 64, 126, 127, 128, 200, 253, 254}) {
      for (int code = 0; code < 16; ++code) {
        CAPTURE(scale);
        CAPTURE(code);
        std::byte block[16];  // every byte: this code in both nibbles
        for (auto& b : block) b = std::byte(code | code << 4);
        float out[32];
        moerecal::mxfp4_block_to_f32(block, static_cast<std::uint8_t>(scale), out);
        const double want = e2m1(code) * std::ldexp(1.0, scale - 127);
        for (float got : out) {
          if (std::abs(want) > std::numeric_limits<float>::max()) {
            CHECK(std::isinf(got));
            CHECK(std::signbit(got) == std::signbit(want));
          } else {
            CHECK(double{got} == want);  // every such product is exact in f32
            CHECK(std::signbit(got) == (code >= 8));
          }
        }
      }
    }
  }

  TEST_CASE("mxfp4_block_to_f32: low nibble first, and the two halves of a block stay apart") {
    std::byte block[16];
    for (int k = 0; k < 16; ++k) block[k] = std::byte(k < 8 ? 0x71 : 0x2F);  // lo 1/F, hi 7/2
    float out[32];
    moerecal::mxfp4_block_to_f32(block, 128, out);  // x2
    for (int k = 0; k < 16; ++k) {
      CAPTURE(k);
      CHECK(out[2 * k] == (k < 8 ? 1.0f : -12.0f));     // low nibble: 0x1 = 0.5, 0xF = -6
      CHECK(out[2 * k + 1] == (k < 8 ? 12.0f : 2.0f));  // high nibble: 0x7 = 6, 0x2 = 1
    }
  }
}
