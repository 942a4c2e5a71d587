// UTF-8 well-formedness (Unicode Table 3-7: no overlong forms, surrogates or code points above
// U+10FFFF), shared by the data reader and the tokenizer so both name the same byte offset.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace moerecal {

inline constexpr std::size_t kValidUtf8 = static_cast<std::size_t>(-1);

// Byte offset of the first byte that does not belong to a well-formed sequence, or kValidUtf8.
std::size_t invalid_utf8_offset(std::string_view s);

// Throws FormatError "<where>: invalid UTF-8 at byte offset N (expected a well-formed UTF-8
// sequence, found byte 0xXX)" when s is ill-formed; `base` is added to N (s's offset in its file).
void require_utf8(std::string_view s, const std::string& where, std::size_t base = 0);

}  // namespace moerecal
