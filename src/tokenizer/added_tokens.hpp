// The "added_tokens" of tokenizer.json: found in the text before the model runs (leftmost, longest
// first), honouring lstrip / rstrip / single_word. Tokens with "normalized": false are matched in
// the raw text, the others in the normalized text (their content normalized the same way).
#pragma once

#include <array>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/normalizer.hpp"

namespace moerecal::tokenizer {

struct AddedToken {
  std::string content;
  int id = -1;
  bool special = false, lstrip = false, rstrip = false, normalized = false, single_word = false;
};

// Part of a text: a run of plain text (id < 0) or one added token.
struct TextPart {
  std::size_t begin, end;
  int id;
};

class AddedTokenMatcher {
 public:
  AddedTokenMatcher() = default;
  // The tokens of one matching set (all with the same "normalized" flag).
  explicit AddedTokenMatcher(std::vector<AddedToken> tokens);
  // Splits s (valid UTF-8) into plain runs and tokens, in order; empty runs are left out.
  void split(std::string_view s, std::vector<TextPart>& out) const;
  bool empty() const { return tokens_.empty(); }

 private:
  // Index of the longest token matching at s[i], or -1.
  int match_at(std::string_view s, std::size_t i) const;
  std::vector<AddedToken> tokens_;
  std::array<std::vector<int>, 256> by_first_byte_;  // longest first
};

// Reads "added_tokens"; throws FormatError naming `where` for a malformed entry.
std::vector<AddedToken> read_added_tokens(const nlohmann::json& list, const std::string& where);

}  // namespace moerecal::tokenizer
