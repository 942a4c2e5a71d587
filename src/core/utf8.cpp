#include "core/utf8.hpp"

#include <cstdio>

#include "core/error.hpp"

namespace moerecal {
namespace {

bool cont(unsigned char c) { return (c & 0xC0) == 0x80; }

// Bytes of the well-formed sequence at s[i], or 0 (Unicode Table 3-7).
std::size_t sequence_len(std::string_view s, std::size_t i) {
  const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const unsigned char c = b(0);
  const std::size_t left = s.size() - i;
  if (c < 0x80) return 1;
  if (c >= 0xC2 && c <= 0xDF) return left >= 2 && cont(b(1)) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (left < 3 || !cont(b(1)) || !cont(b(2))) return 0;
    if (c == 0xE0 && b(1) < 0xA0) return 0;  // overlong
    if (c == 0xED && b(1) > 0x9F) return 0;  // surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (left < 4 || !cont(b(1)) || !cont(b(2)) || !cont(b(3))) return 0;
    if (c == 0xF0 && b(1) < 0x90) return 0;  // overlong
    if (c == 0xF4 && b(1) > 0x8F) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

std::size_t invalid_utf8_offset(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const std::size_t n = sequence_len(s, i);
    if (n == 0) return i;
    i += n;
  }
  return kValidUtf8;
}

void require_utf8(std::string_view s, const std::string& where, std::size_t base) {
  const std::size_t at = invalid_utf8_offset(s);
  if (at == kValidUtf8) return;
  char found[8];
  std::snprintf(found, sizeof found, "0x%02X", static_cast<unsigned char>(s[at]));
  throw FormatError(where + ": invalid UTF-8 at byte offset " + std::to_string(base + at) +
                    " (expected a well-formed UTF-8 sequence, found byte " + found + ")");
}

}  // namespace moerecal
