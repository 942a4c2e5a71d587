// Element types of the safetensors format (ARCHITECTURES.md §11.2) and conversions between the
// floating types moe-recal computes with. Conversions are pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace moerecal {

// Declared in increasing alignment order, as the reference implementation does.
enum class DType : std::uint8_t {
  kBool,
  kF4,
  kF6E2M3,
  kF6E3M2,
  kU8,
  kI8,
  kF8E5M2,
  kF8E4M3,
  kF8E8M0,
  kF8E4M3Fnuz,
  kF8E5M2Fnuz,
  kI16,
  kU16,
  kF16,
  kBF16,
  kI32,
  kU32,
  kF32,
  kC64,
  kF64,
  kI64,
  kU64,
};

// Parses the exact, case-sensitive dtype string ("BF16"); nullopt when unknown.
std::optional<DType> parse_dtype(std::string_view s);
std::string_view dtype_name(DType t);
// Size of one element in bits (4 for F4, 6 for the F6 types).
int dtype_bits(DType t);
// True for F32, F16 and BF16: the dtypes that widen to f32 rows.
bool is_widenable(DType t);

// Scalar conversions. Narrowing rounds to nearest, ties to even; NaN stays NaN (quiet).
float bf16_to_f32(std::uint16_t h);
std::uint16_t f32_to_bf16(float f);
float f16_to_f32(std::uint16_t h);
std::uint16_t f32_to_f16(float f);

// FP8 e4m3fn (bias 7, no infinities, 0x7F/0xFF NaN, max 448, subnormals m * 2^-9).
float f8e4m3_to_f32(std::uint8_t code);

// One MXFP4 block: 16 bytes of E2M1 codes (sign, 2 exponent bits with bias 1, 1 mantissa bit;
// values 0, 0.5, 1, 1.5, 2, 3, 4, 6), the low nibble of byte k element 2k and the high nibble
// element 2k+1, each times 2^(scale - 127) (an E8M0 exponent); writes 32 floats. A product past
// the f32 range is +-inf.
void mxfp4_block_to_f32(const std::byte* block, std::uint8_t scale, float* out);

// Row converters: n elements of `src` (little-endian bytes of dtype t) to f32 and back.
// t must be widenable; `src`/`dst` need no alignment.
void widen_to_f32(DType t, const std::byte* src, float* dst, std::size_t n);
void narrow_from_f32(DType t, const float* src, std::byte* dst, std::size_t n);

}  // namespace moerecal
