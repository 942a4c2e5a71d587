// The "pre_tokenizer" of tokenizer.json: Sequence, ByteLevel, Split (String or Regex pattern,
// every behavior, invert), Metaspace, Digits, Whitespace, WhitespaceSplit. Anything else is a
// FormatError naming the type.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace moerecal::tokenizer {

struct Piece {
  std::string text;
  bool first = false;  // starts at offset 0 of the whole input (Metaspace prepend_scheme "first")
};

// Splits (and rewrites) pieces in place. Empty when the file has no pre-tokenizer.
using PreTokenizer = std::function<void(std::vector<Piece>&)>;

PreTokenizer make_pre_tokenizer(const nlohmann::json& j, const std::string& where);

// GPT-2's byte -> printable character map, as UTF-8 strings (ByteLevel).
const std::string& byte_level_char(unsigned char b);

}  // namespace moerecal::tokenizer
