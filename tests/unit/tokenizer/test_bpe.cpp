// BPE merges by rank, byte fallback and unknown tokens, on hand-made vocabularies whose results
// are worked out by hand below.
#include <doctest/doctest.h>

#include <tuple>

#include "core/error.hpp"
#include "tok_fixture.hpp"

using moerecal::test::bpe_json;
using moerecal::test::TokDir;

namespace {

// The FormatError message of loading tokenizer.json `j`, or "no error".
std::string load_error(const nlohmann::json& j) {
  try {
    TokDir(j).load();
  } catch (const moerecal::FormatError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace
using V = std::vector<int>;

TEST_SUITE("tokenizer") {
  TEST_CASE("merges apply lowest rank first, leftmost on ties") {
    const nlohmann::json vocab = {{"a", 0},  {"b", 1},   {"c", 2}, {"ab", 3},
                                  {"bc", 4}, {"abc", 5}, {"aa", 6}};
    // "b c" outranks "a b": abc -> a bc -> (a bc has no merge) -> [a, bc]
    CHECK(TokDir(bpe_json(vocab, {"b c", "a b"})).load().encode("abc") == V{0, 4});
    // "a b" first, then "ab c": abc -> ab c -> abc
    CHECK(TokDir(bpe_json(vocab, {"a b", "b c", "ab c"})).load().encode("abc") == V{5});
    // merges given as pairs (the newer tokenizer.json format) mean the same
    CHECK(TokDir(bpe_json(vocab, nlohmann::json::array({nlohmann::json::array({"a", "b"}),
                                                        nlohmann::json::array({"ab", "c"})})))
              .load()
              .encode("abc") == V{5});
    // aaa: the leftmost pair merges first -> [aa, a]
    CHECK(TokDir(bpe_json(vocab, {"a a"})).load().encode("aaa") == V{6, 0});
    CHECK(TokDir(bpe_json(vocab, {"a a"})).load().encode("aaaa") == V{6, 6});
  }

  TEST_CASE("byte fallback, unk and fuse_unk") {
    nlohmann::json j = bpe_json({{"<unk>", 0}, {"a", 1}, {"<0xC3>", 2}, {"<0xA9>", 3}}, {});
    j["model"]["unk_token"] = "<unk>";
    j["model"]["byte_fallback"] = true;
    // é = C3 A9: both byte tokens exist; ü = C3 BC: <0xBC> missing -> unk
    CHECK(TokDir(j).load().encode("aéa") == V{1, 2, 3, 1});
    CHECK(TokDir(j).load().encode("üü") == V{0, 0});
    j["model"]["fuse_unk"] = true;
    CHECK(TokDir(j).load().encode("üüaü") == V{0, 1, 0});
    j["model"]["unk_token"] = nullptr;  // no unk token: the character is dropped
    CHECK(TokDir(j).load().encode("aüa") == V{1, 1});
  }

  TEST_CASE("ignore_merges takes a whole word found in the vocab") {
    const nlohmann::json vocab = {{"a", 0}, {"b", 1}, {"ab", 2}, {"abb", 3}, {"bb", 4}};
    nlohmann::json j = bpe_json(vocab, {"b b", "a b"});
    CHECK(TokDir(j).load().encode("abb") == V{0, 4});
    j["model"]["ignore_merges"] = true;
    CHECK(TokDir(j).load().encode("abb") == V{3});
  }

  TEST_CASE("values of the wrong JSON type are FormatErrors naming the key (fuzz finding)") {
    // fuzz_tokenizer: "merges": "NFKC" reached json::operator[] on a string (type_error 305,
    // exit 3 from the CLI); every such value is now exit 2 naming file and key.
    const nlohmann::json vocab = {{"a", 0}};
    for (auto [key, value, expect] :
         {std::tuple{"merges", nlohmann::json("NFKC"),
                     "model.merges: expected a list, found string"},
          std::tuple{"vocab", nlohmann::json(3), "model.vocab: expected an object, found number"},
          std::tuple{"dropout", nlohmann::json("x"), "model.dropout: expected a number"},
          std::tuple{"fuse_unk", nlohmann::json("yes"), "model.fuse_unk: expected true or false"},
          std::tuple{"end_of_word_suffix", nlohmann::json(1), "suffix: expected a string"}}) {
      CAPTURE(key);
      nlohmann::json j = bpe_json(vocab, nlohmann::json::array());
      j["model"][key] = value;
      const std::string m = load_error(j);
      CHECK(m.find("tokenizer.json: model.") != std::string::npos);
      CHECK(m.find(expect) != std::string::npos);
    }
    // A wrong type deeper in the pipeline is caught at load and still names the file.
    nlohmann::json j = bpe_json(vocab, nlohmann::json::array());
    j["added_tokens"] = {{{"id", "zero"}, {"content", "a"}}};
    const std::string m = load_error(j);
    CHECK(m.find("tokenizer.json") != std::string::npos);
    CHECK(m != "no error");
  }

  TEST_CASE("unsupported model features are errors naming the feature") {
    const nlohmann::json vocab = {{"a", 0}};
    nlohmann::json j = bpe_json(vocab, nlohmann::json::array());
    j["model"]["type"] = "WordPiece";
    CHECK(load_error(j).find("unsupported tokenizer feature 'WordPiece'") != std::string::npos);
    j = bpe_json(vocab, nlohmann::json::array());
    j["model"]["dropout"] = 0.1;
    CHECK(load_error(j).find("dropout") != std::string::npos);
    j = bpe_json(vocab, nlohmann::json::array());
    j["model"]["continuing_subword_prefix"] = "##";
    CHECK(load_error(j).find("continuing_subword_prefix") != std::string::npos);
    j = bpe_json(vocab, {"a b"});
    CHECK(load_error(j).find("merges[0]: token not in the vocab") != std::string::npos);
    j = bpe_json(vocab, nlohmann::json::array());
    j["normalizer"] = {{"type", "Precompiled"}, {"precompiled_charsmap", "AAAA"}};
    CHECK(load_error(j).find("normalizer type: unsupported tokenizer feature 'Precompiled'") !=
          std::string::npos);
    j = bpe_json(vocab, nlohmann::json::array());
    j["pre_tokenizer"] = {{"type", "BertPreTokenizer"}};
    CHECK(load_error(j).find("'BertPreTokenizer'") != std::string::npos);
    j = bpe_json(vocab, nlohmann::json::array());
    j["post_processor"] = {{"type", "Mystery"}};
    CHECK(load_error(j).find("post_processor type: unsupported tokenizer feature 'Mystery'") !=
          std::string::npos);
    j = bpe_json(vocab, nlohmann::json::array());
    j["pre_tokenizer"] = {{"type", "Split"},
                          {"pattern", {{"Regex", "(unclosed"}}},
                          {"behavior", "Isolated"},
                          {"invert", false}};
    CHECK(load_error(j).find("unsupported regex pattern") != std::string::npos);
  }
}
