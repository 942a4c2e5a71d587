// A compiled split pattern (PCRE2 with UTF and Unicode properties, JIT when available). The
// patterns in tokenizer.json are Oniguruma syntax; the ones tokenizers ship (\p{L}, \p{N}, \s,
// (?i:...), look-ahead) mean the same in PCRE2.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace moerecal::tokenizer {

class Regex {
 public:
  // Throws FormatError naming `where` and the PCRE2 message when the pattern does not compile.
  Regex(const std::string& pattern, const std::string& where);
  ~Regex();
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;

  // Non-empty matches of the pattern in s (valid UTF-8), left to right, as [begin, end) byte
  // offsets appended to `out`. Thread-safe.
  void find_all(std::string_view s, std::vector<std::pair<std::size_t, std::size_t>>& out) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace moerecal::tokenizer
