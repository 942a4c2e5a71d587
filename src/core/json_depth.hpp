// Nesting depth of untrusted JSON, checked before it is parsed: nlohmann's dump() and this tool's
// walkers of nested objects (tokenizer Sequence steps) recurse once per level, so a file of ten
// million '[' would overflow the stack. No file this tool reads nests beyond a dozen levels.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace moerecal {

inline constexpr std::size_t kMaxJsonDepth = 128;

// Deepest nesting of [ and { in `text`, brackets inside strings skipped (a linear scan; the text
// need not be valid JSON).
std::size_t json_depth(std::string_view text);

// Throws FormatError "<where>: JSON nests deeper than 128 levels (expected at most 128)" when
// json_depth(text) > kMaxJsonDepth.
void require_json_depth(std::string_view text, const std::string& where);

}  // namespace moerecal
