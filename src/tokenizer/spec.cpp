#include "tokenizer/spec.hpp"

#include "core/error.hpp"

namespace moerecal::tokenizer {

const nlohmann::json& field(const nlohmann::json& j, const char* key, const std::string& at) {
  if (!j.is_object() || !j.contains(key)) {
    throw FormatError(at + ": expected key \"" + key + "\", found " +
                      (j.is_object() ? std::string("none") : std::string(j.type_name())));
  }
  return j[key];
}

std::string string_field(const nlohmann::json& j, const char* key, const std::string& at) {
  const nlohmann::json& v = field(j, key, at);
  if (!v.is_string()) {
    throw FormatError(at + ": \"" + key + "\": expected a string, found " + v.dump());
  }
  return v.get<std::string>();
}

void unsupported(const std::string& what, const std::string& found) {
  throw FormatError(what + ": unsupported tokenizer feature '" + found + "'");
}

}  // namespace moerecal::tokenizer
