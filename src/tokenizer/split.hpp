// Splitting a piece at matches with the delimiter behaviours of Hugging Face tokenizers
// (SplitDelimiterBehavior), reproduced rule for rule.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "tokenizer/pre_tokenizer.hpp"

namespace moerecal::tokenizer {

enum class Behavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

using Spans = std::vector<std::pair<std::size_t, std::size_t>>;

// Throws FormatError for an unknown behavior name.
Behavior behavior_from_name(const std::string& name, const std::string& where);

// Appends the non-empty parts of p split at `matches` (sorted, disjoint) to out.
void split_piece(const Piece& p, const Spans& matches, Behavior b, bool invert,
                 std::vector<Piece>& out);

// Each character of s for which pred holds, as a one-character match.
template <class Pred>
Spans char_matches(const std::string& s, Pred pred);

}  // namespace moerecal::tokenizer

#include "tokenizer/unicode.hpp"

template <class Pred>
moerecal::tokenizer::Spans moerecal::tokenizer::char_matches(const std::string& s, Pred pred) {
  Spans out;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = utf8_len(static_cast<unsigned char>(s[i]));
    if (pred(decode_at(s, i))) out.emplace_back(i, i + n);
    i += n;
  }
  return out;
}
