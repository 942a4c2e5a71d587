// Pre-tokenizers, normalizers, added tokens and special-token rules, checked against the
// examples in Hugging Face tokenizers' own documentation and tests (quoted as expected values).
#include <doctest/doctest.h>

#include "core/error.hpp"
#include "tok_fixture.hpp"
#include "tokenizer/normalizer.hpp"
#include "tokenizer/pre_tokenizer.hpp"
#include "tokenizer/split.hpp"

using namespace moerecal::tokenizer;
using moerecal::test::bpe_json;
using moerecal::test::TokDir;
using S = std::vector<std::string>;
using V = std::vector<int>;

namespace {

S pre_tokenize(const nlohmann::json& j, const std::string& text, bool first = true) {
  std::vector<Piece> pieces{{text, first}};
  make_pre_tokenizer(j, "test")(pieces);
  S out;
  for (const Piece& p : pieces) out.push_back(p.text);
  return out;
}

S split_on_dash(Behavior b) {
  const std::string s = "the-final--countdown";
  std::vector<Piece> out;
  split_piece({s, true}, char_matches(s, [](char32_t c) { return c == U'-'; }), b, false, out);
  S texts;
  for (const Piece& p : out) texts.push_back(p.text);
  return texts;
}

}  // namespace

TEST_SUITE("tokenizer") {
  TEST_CASE("split delimiter behaviours (tokenizers docs: the-final--countdown)") {
    CHECK(split_on_dash(Behavior::kRemoved) == S{"the", "final", "countdown"});
    CHECK(split_on_dash(Behavior::kIsolated) == S{"the", "-", "final", "-", "-", "countdown"});
    CHECK(split_on_dash(Behavior::kMergedWithPrevious) == S{"the-", "final-", "-", "countdown"});
    CHECK(split_on_dash(Behavior::kMergedWithNext) == S{"the", "-final", "-", "-countdown"});
    CHECK(split_on_dash(Behavior::kContiguous) == S{"the", "-", "final", "--", "countdown"});
  }

  TEST_CASE("ByteLevel, Metaspace, Digits pre-tokenizers (tokenizers' unit tests)") {
    const nlohmann::json bl = {{"type", "ByteLevel"}, {"add_prefix_space", false}};
    CHECK(pre_tokenize(bl, "Hello my friend, how is your day going?") ==
          S{"Hello", "Ġmy", "Ġfriend", ",", "Ġhow", "Ġis", "Ġyour", "Ġday", "Ġgoing", "?"});
    const nlohmann::json blp = {{"type", "ByteLevel"}, {"add_prefix_space", true}};
    CHECK(pre_tokenize(blp, "Hello you") == S{"ĠHello", "Ġyou"});
    const nlohmann::json ms = {
        {"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "always"}, {"split", true}};
    CHECK(pre_tokenize(ms, "Hey friend!") == S{"▁Hey", "▁friend!"});
    CHECK(pre_tokenize(ms, "Hey   friend!") == S{"▁Hey", "▁", "▁", "▁friend!"});
    const nlohmann::json first = {
        {"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "first"}, {"split", false}};
    CHECK(pre_tokenize(first, "Hey friend", true) == S{"▁Hey▁friend"});
    CHECK(pre_tokenize(first, "Hey friend", false) == S{"Hey▁friend"});
    CHECK(pre_tokenize({{"type", "Digits"}, {"individual_digits", false}}, "Hey 123 friend!") ==
          S{"Hey ", "123", " friend!"});
    CHECK(pre_tokenize({{"type", "Digits"}, {"individual_digits", true}}, "Hey 123 friend!") ==
          S{"Hey ", "1", "2", "3", " friend!"});
    CHECK(pre_tokenize({{"type", "Whitespace"}}, "Hey man!  How's it") ==
          S{"Hey", "man", "!", "How", "'", "s", "it"});
  }

  TEST_CASE("normalizers") {
    const auto norm = [](const nlohmann::json& j, std::string s) {
      make_normalizer(j, "test")(s);
      return s;
    };
    CHECK(norm({{"type", "NFC"}}, "e\u0301") == "\u00e9");
    CHECK(norm({{"type", "NFD"}}, "\u00e9") == "e\u0301");
    CHECK(norm({{"type", "NFKC"}}, "\uFB01 \uFF21\u00B2") == "fi A2");
    CHECK(norm({{"type", "Lowercase"}}, "ÀB c") == "àb c");
    const nlohmann::json llama = {
        {"type", "Sequence"},
        {"normalizers",
         {{{"type", "Prepend"}, {"prepend", "▁"}},
          {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "▁"}}}}};
    CHECK(norm(llama, "Hey friend") == "▁Hey▁friend");
    CHECK(norm(llama, "") == "");
    CHECK(norm({{"type", "Replace"}, {"pattern", {{"Regex", "\\s+"}}}, {"content", "_"}},
               "a  b\t\nc") == "a_b_c");
    CHECK(norm({{"type", "Strip"}, {"strip_left", true}, {"strip_right", true}}, "  a b \n") ==
          "a b");
  }

  TEST_CASE("added tokens: leftmost longest, lstrip / rstrip / single_word, normalized") {
    nlohmann::json j = bpe_json({{"a", 0}, {"b", 1}, {" ", 2}, {"<", 3}, {"x", 4}, {">", 5}}, {});
    const auto added = [](const std::string& c, int id, bool lstrip, bool rstrip, bool single,
                          bool normalized) {
      return nlohmann::json{{"id", id},
                            {"content", c},
                            {"single_word", single},
                            {"lstrip", lstrip},
                            {"rstrip", rstrip},
                            {"normalized", normalized},
                            {"special", !normalized}};
    };
    j["added_tokens"] = {added("<x>", 10, false, false, false, false),
                         added("<x>>", 11, false, false, false, false)};
    CHECK(TokDir(j).load().encode("a <x>> b") == V{0, 2, 11, 2, 1});
    j["added_tokens"] = {added("<x>", 10, true, true, false, false)};
    CHECK(TokDir(j).load().encode("a  <x>  b") == V{0, 10, 1});
    j["added_tokens"] = {added("<x>", 10, false, false, true, false)};
    CHECK(TokDir(j).load().encode("a<x>b") == V{0, 3, 4, 5, 1});
    CHECK(TokDir(j).load().encode("a <x> b") == V{0, 2, 10, 2, 1});
    j["normalizer"] = {{"type", "Lowercase"}};
    j["added_tokens"] = {added("B", 12, false, false, false, true)};
    CHECK(TokDir(j).load().encode("aBb") == V{0, 12, 12});
    j["added_tokens"] = {added("B", 12, false, false, false, false)};
    CHECK(TokDir(j).load().encode("aBb") == V{0, 12, 1});
  }

  TEST_CASE("special tokens: template, then tokenizer_config add_bos_token / add_eos_token") {
    nlohmann::json j = bpe_json({{"<s>", 1}, {"</s>", 2}, {"a", 3}}, {});
    j["added_tokens"] = {
        {{"id", 1}, {"content", "<s>"}, {"special", true}, {"normalized", false}},
        {{"id", 2}, {"content", "</s>"}, {"special", true}, {"normalized", false}}};
    j["post_processor"] = {
        {"type", "TemplateProcessing"},
        {"single",
         {{{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}},
          {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
        {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}};
    CHECK(TokDir(j).load().encode("a") == V{1, 3});
    CHECK(TokDir(j).load().encode("a", "t", 0, false) == V{3});
    CHECK(TokDir(j).load().encode("") == V{1});
    CHECK(TokDir(j).load().encode("<s>a</s>") == V{1, 1, 3, 2});
    const nlohmann::json config = {{"add_bos_token", false},
                                   {"add_eos_token", true},
                                   {"bos_token", "<s>"},
                                   {"eos_token", {{"content", "</s>"}}}};
    CHECK(TokDir(j, config).load().encode("a") == V{3, 2});
  }

  TEST_CASE("invalid UTF-8 is an error naming the byte offset") {
    const auto tok = TokDir(bpe_json({{"a", 0}}, {})).load();
    const auto offset_of = [&](const std::string& s) -> std::string {
      try {
        tok.encode(s, "f.txt", 100);
      } catch (const moerecal::FormatError& e) {
        return e.what();
      }
      return "valid";
    };
    CHECK(offset_of("ab\xff") ==
          "f.txt: invalid UTF-8 at byte offset 102 (expected a well-formed "
          "UTF-8 sequence, found byte 0xFF)");
    CHECK(offset_of("\xC0\xAF").find("offset 100 ") != std::string::npos);          // overlong
    CHECK(offset_of("a\xED\xA0\x80").find("offset 101 ") != std::string::npos);     // surrogate
    CHECK(offset_of("aa\xE2\x82").find("offset 102 ") != std::string::npos);        // truncated
    CHECK(offset_of("\xF4\x90\x80\x80").find("offset 100 ") != std::string::npos);  // > U+10FFFF
    CHECK(offset_of("a\xF0\x9F\x98\x80") == "valid");
  }
}
