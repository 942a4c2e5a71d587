#include "core/json_depth.hpp"

#include "core/error.hpp"

namespace moerecal {

std::size_t json_depth(std::string_view text) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') {
        ++i;  // the escaped character
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

void require_json_depth(std::string_view text, const std::string& where) {
  const std::size_t depth = json_depth(text);
  if (depth > kMaxJsonDepth) {
    throw FormatError(where + ": JSON nests " + std::to_string(depth) +
                      " levels deep (expected at most " + std::to_string(kMaxJsonDepth) + ")");
  }
}

}  // namespace moerecal
