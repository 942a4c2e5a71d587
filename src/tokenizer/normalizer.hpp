// The "normalizer" of tokenizer.json: Sequence, NFC, NFD, NFKC, NFKD, Lowercase, Prepend,
// Replace (String or Regex pattern), Strip. Anything else is a FormatError naming the type.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace moerecal::tokenizer {

// Rewrites a (valid UTF-8) string in place. Empty when the file has no normalizer.
using Normalizer = std::function<void(std::string&)>;

// `where` names the file for error messages. A null JSON value gives an empty Normalizer.
Normalizer make_normalizer(const nlohmann::json& j, const std::string& where);

}  // namespace moerecal::tokenizer
