// The tokenizer.json files of the testdata/hf fixtures (trained with Hugging Face tokenizers)
// against the ids transformers produced for the same texts (reference/inputs.json keeps the
// first 48 ids of each text).
#include <doctest/doctest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/sha256.hpp"
#include "tokenizer/tokenizer.hpp"

namespace fs = std::filesystem;

TEST_SUITE("tokenizer") {
  TEST_CASE("testdata/hf fixtures: ids equal transformers' tokenizer(text)[\"input_ids\"]") {
    int checked = 0;
    for (const auto& e : fs::directory_iterator(fs::path(MR_TESTDATA_DIR) / "hf")) {
      CAPTURE(e.path().string());
      const auto tok = moerecal::tokenizer::Tokenizer::load(e.path());
      CHECK(tok.sha256() == moerecal::sha256_file(e.path() / "tokenizer.json"));
      std::ifstream in(e.path() / "reference" / "inputs.json");
      const nlohmann::json ref = nlohmann::json::parse(in);
      REQUIRE(ref["texts"].size() == ref["input_ids"].size());
      for (std::size_t i = 0; i < ref["texts"].size(); ++i) {
        const auto want = ref["input_ids"][i].get<std::vector<int>>();
        std::vector<int> got = tok.encode(ref["texts"][i].get<std::string>());
        REQUIRE(got.size() >= want.size());
        got.resize(want.size());
        CHECK(got == want);
        ++checked;
      }
    }
    CHECK(checked >= 8);
  }
}
