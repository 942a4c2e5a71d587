// Unicode helpers for the tokenizer: code point stepping, normalization forms (utf8proc) and the
// character classes Hugging Face tokenizers use (Rust char::is_whitespace / is_numeric /
// is_alphanumeric).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "core/utf8.hpp"

namespace moerecal::tokenizer {

// Length in bytes of the UTF-8 sequence starting with `lead` (1 for a stray byte).
inline int utf8_len(unsigned char lead) {
  return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

// Decodes the code point at s[i] (s must be valid UTF-8).
char32_t decode_at(std::string_view s, std::size_t i);
void append_utf8(std::string& out, char32_t cp);

enum class NormalForm { kNfc, kNfd, kNfkc, kNfkd };
std::string normalize(std::string_view s, NormalForm form);
std::string lowercase(std::string_view s);

bool is_whitespace(char32_t c);    // Unicode White_Space
bool is_numeric(char32_t c);       // general category Nd, Nl or No
bool is_alphanumeric(char32_t c);  // L* or N*

}  // namespace moerecal::tokenizer
