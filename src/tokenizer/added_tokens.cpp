#include "tokenizer/added_tokens.hpp"

#include <algorithm>

#include "core/error.hpp"
#include "tokenizer/spec.hpp"
#include "tokenizer/unicode.hpp"

namespace moerecal::tokenizer {
namespace {

bool is_word_char(char32_t c) { return is_alphanumeric(c) || c == U'_'; }

// Start of the code point that ends just before byte i.
std::size_t prev_char(std::string_view s, std::size_t i) {
  do --i;
  while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80);
  return i;
}

}  // namespace

std::vector<AddedToken> read_added_tokens(const nlohmann::json& list, const std::string& where) {
  std::vector<AddedToken> out;
  if (list.is_null()) return out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string at = where + ": added_tokens[" + std::to_string(i) + "]";
    const nlohmann::json& t = list[i];
    AddedToken a;
    a.content = string_field(t, "content", at);
    const nlohmann::json& id = field(t, "id", at);
    if (!id.is_number_integer()) throw FormatError(at + ".id: expected an integer");
    a.id = id.get<int>();
    a.special = t.value("special", false);
    a.lstrip = t.value("lstrip", false);
    a.rstrip = t.value("rstrip", false);
    a.normalized = t.value("normalized", !a.special);
    a.single_word = t.value("single_word", false);
    require_utf8(a.content, at + ".content");
    out.push_back(std::move(a));
  }
  return out;
}

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens) : tokens_(std::move(tokens)) {
  std::erase_if(tokens_, [](const AddedToken& t) { return t.content.empty(); });
  for (int k = 0; k < static_cast<int>(tokens_.size()); ++k) {
    by_first_byte_[static_cast<unsigned char>(tokens_[k].content[0])].push_back(k);
  }
  for (auto& bucket : by_first_byte_) {
    std::stable_sort(bucket.begin(), bucket.end(), [this](int a, int b) {
      return tokens_[a].content.size() > tokens_[b].content.size();
    });
  }
}

int AddedTokenMatcher::match_at(std::string_view s, std::size_t i) const {
  for (int k : by_first_byte_[static_cast<unsigned char>(s[i])]) {
    if (s.compare(i, tokens_[k].content.size(), tokens_[k].content) == 0) return k;
  }
  return -1;
}

void AddedTokenMatcher::split(std::string_view s, std::vector<TextPart>& out) const {
  if (tokens_.empty()) {
    if (!s.empty()) out.push_back({0, s.size(), -1});
    return;
  }
  std::size_t start_offset = 0;
  for (std::size_t i = 0; i < s.size();) {
    const int k = match_at(s, i);
    if (k < 0) {
      ++i;
      continue;
    }
    const AddedToken& t = tokens_[k];
    std::size_t start = i, stop = i + t.content.size();
    i = stop;
    if (t.single_word && ((start > 0 && is_word_char(decode_at(s, prev_char(s, start)))) ||
                          (stop < s.size() && is_word_char(decode_at(s, stop))))) {
      continue;
    }
    if (t.lstrip) {
      while (start > start_offset && is_whitespace(decode_at(s, prev_char(s, start))))
        start = prev_char(s, start);
    }
    if (t.rstrip) {
      while (stop < s.size() && is_whitespace(decode_at(s, stop)))
        stop += utf8_len(static_cast<unsigned char>(s[stop]));
      i = stop;
    }
    if (start > start_offset) out.push_back({start_offset, start, -1});
    out.push_back({start, stop, t.id});
    start_offset = stop;
  }
  if (start_offset < s.size()) out.push_back({start_offset, s.size(), -1});
}

}  // namespace moerecal::tokenizer
