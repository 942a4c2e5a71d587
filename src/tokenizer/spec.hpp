// Small helpers for reading tokenizer.json: a missing or mistyped key, or a feature this reader
// does not implement, is a FormatError naming the file, the key and what was found.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace moerecal::tokenizer {

const nlohmann::json& field(const nlohmann::json& j, const char* key, const std::string& at);
std::string string_field(const nlohmann::json& j, const char* key, const std::string& at);

// Throws FormatError "<what>: unsupported tokenizer feature '<found>'".
[[noreturn]] void unsupported(const std::string& what, const std::string& found);

}  // namespace moerecal::tokenizer
