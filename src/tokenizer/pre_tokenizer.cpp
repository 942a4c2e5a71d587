#include "tokenizer/pre_tokenizer.hpp"

#include <array>
#include <memory>

#include "tokenizer/regex.hpp"
#include "tokenizer/spec.hpp"
#include "tokenizer/split.hpp"

namespace moerecal::tokenizer {
namespace {

// GPT-2's pre-tokenization pattern (ByteLevel with use_regex).
constexpr const char* kGpt2Pattern =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

using Splitter = std::function<Spans(const std::string&)>;

// Splits every piece at the matches `find` returns.
PreTokenizer splitting(Splitter find, Behavior b, bool invert) {
  return [find = std::move(find), b, invert](std::vector<Piece>& pieces) {
    std::vector<Piece> out;
    out.reserve(pieces.size());
    for (const Piece& p : pieces) split_piece(p, find(p.text), b, invert, out);
    pieces = std::move(out);
  };
}

Splitter regex_splitter(const std::string& pattern, const std::string& at) {
  auto re = std::make_shared<Regex>(pattern, at);
  return [re](const std::string& s) {
    Spans m;
    re->find_all(s, m);
    return m;
  };
}

Splitter literal_splitter(std::string lit) {
  return [lit = std::move(lit)](const std::string& s) {
    Spans m;
    if (lit.empty()) return m;
    for (std::size_t h = s.find(lit); h != std::string::npos; h = s.find(lit, h + lit.size())) {
      m.emplace_back(h, h + lit.size());
    }
    return m;
  };
}

PreTokenizer make_split(const nlohmann::json& j, const std::string& at) {
  const nlohmann::json& pattern = field(j, "pattern", at);
  const Behavior b = behavior_from_name(string_field(j, "behavior", at), at);
  const bool invert = j.value("invert", false);
  if (pattern.contains("String")) {
    return splitting(literal_splitter(pattern["String"].get<std::string>()), b, invert);
  }
  if (!pattern.contains("Regex")) unsupported(at + ".pattern", pattern.dump());
  return splitting(regex_splitter(pattern["Regex"].get<std::string>(), at + ".pattern"), b, invert);
}

PreTokenizer make_byte_level(const nlohmann::json& j, const std::string& at) {
  const bool prefix = j.value("add_prefix_space", true);
  const bool use_regex = j.value("use_regex", true);
  PreTokenizer split = use_regex
                           ? splitting(regex_splitter(kGpt2Pattern, at), Behavior::kIsolated, false)
                           : PreTokenizer{};
  return [prefix, split](std::vector<Piece>& pieces) {
    if (prefix) {
      for (Piece& p : pieces)
        if (p.text.empty() || p.text[0] != ' ') p.text.insert(0, 1, ' ');
    }
    if (split) split(pieces);
    for (Piece& p : pieces) {
      std::string mapped;
      mapped.reserve(p.text.size() * 2);
      for (unsigned char c : p.text) mapped += byte_level_char(c);
      p.text = std::move(mapped);
    }
  };
}

PreTokenizer make_metaspace(const nlohmann::json& j, const std::string& at) {
  const std::string rep = j.contains("replacement") ? string_field(j, "replacement", at)
                                                    : string_field(j, "str_rep", at);
  std::string scheme = j.value("add_prefix_space", true) ? "always" : "never";
  if (j.contains("prepend_scheme")) scheme = string_field(j, "prepend_scheme", at);
  if (scheme != "always" && scheme != "first" && scheme != "never") {
    unsupported(at + " prepend_scheme", scheme);
  }
  PreTokenizer split = j.value("split", true)
                           ? splitting(literal_splitter(rep), Behavior::kMergedWithNext, false)
                           : PreTokenizer{};
  return [rep, scheme, split](std::vector<Piece>& pieces) {
    for (Piece& p : pieces) {
      std::string s;
      for (char c : p.text) c == ' ' ? s += rep : s += c;
      const bool starts = s.compare(0, rep.size(), rep) == 0;
      if (!starts && (scheme == "always" || (scheme == "first" && p.first))) s.insert(0, rep);
      p.text = std::move(s);
    }
    if (split) split(pieces);
  };
}

PreTokenizer make_char_split(bool (*pred)(char32_t), Behavior b) {
  return splitting([pred](const std::string& s) { return char_matches(s, pred); }, b, false);
}

}  // namespace

const std::string& byte_level_char(unsigned char b) {
  static const std::array<std::string, 256> table = [] {
    std::array<std::string, 256> t;
    char32_t next = 256;
    for (int c = 0; c < 256; ++c) {
      const bool printable = (c >= 33 && c <= 126) || (c >= 161 && c <= 172) || c >= 174;
      append_utf8(t[c], printable ? static_cast<char32_t>(c) : next++);
    }
    return t;
  }();
  return table[b];
}

PreTokenizer make_pre_tokenizer(const nlohmann::json& j, const std::string& where) {
  if (j.is_null()) return {};
  const std::string at = where + ": pre_tokenizer";
  const std::string type = string_field(j, "type", at);
  if (type == "Sequence") {
    std::vector<PreTokenizer> steps;
    for (const auto& p : field(j, "pretokenizers", at)) {
      if (PreTokenizer step = make_pre_tokenizer(p, where)) steps.push_back(std::move(step));
    }
    return [steps](std::vector<Piece>& pieces) {
      for (const auto& step : steps) step(pieces);
    };
  }
  if (type == "ByteLevel") return make_byte_level(j, at + " ByteLevel");
  if (type == "Split") return make_split(j, at + " Split");
  if (type == "Metaspace") return make_metaspace(j, at + " Metaspace");
  if (type == "Digits") {
    return make_char_split(is_numeric, j.value("individual_digits", false) ? Behavior::kIsolated
                                                                           : Behavior::kContiguous);
  }
  if (type == "WhitespaceSplit") return make_char_split(is_whitespace, Behavior::kRemoved);
  if (type == "Whitespace") {
    return splitting(regex_splitter(R"(\w+|[^\w\s]+)", at), Behavior::kRemoved, true);
  }
  unsupported(at + " type", type);
}

}  // namespace moerecal::tokenizer
