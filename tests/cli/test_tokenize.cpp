// `tokenize` and text data as a user runs them: ids against transformers' (testdata/hf), the
// tokenizer recorded in perplexity and calibrate output, and bad text / tokenizer inputs (exit 2).
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "fixtures.hpp"
#include "run_cli.hpp"

using namespace moerecal::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path kModel = testdata() / "hf" / "hf-mixtral";
// sha256sum testdata/hf/hf-mixtral/tokenizer.json
constexpr const char* kTokenizerSha =
    "2a8e98d9fded78df21c6384303f1924bdb7d634b2b8847fd0287360c41ed8d2f";

json reference() { return json::parse(read_file(kModel / "reference" / "inputs.json")); }

fs::path write_texts(const TempDir& tmp) {
  const json ref = reference();
  std::ofstream out(tmp / "texts.jsonl");
  for (const auto& t : ref["texts"]) out << json{{"text", t}}.dump() << "\n";
  return tmp / "texts.jsonl";
}

std::vector<std::string> lines(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);) out.push_back(l);
  return out;
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("tokenize --json: transformers' ids, one {line, input_ids} per record") {
    TempDir tmp;
    const json ref = reference();
    const CliResult r = run_cli({"tokenize", kModel.string(), write_texts(tmp).string(), "--json"});
    REQUIRE(r.exit_code == 0);
    const auto out = lines(r.out);
    REQUIRE(out.size() == ref["texts"].size());
    for (std::size_t i = 0; i < out.size(); ++i) {
      CHECK(out[i].rfind("{\"line\":" + std::to_string(i + 1) + ",\"input_ids\":[1,", 0) == 0);
      auto ids = json::parse(out[i])["input_ids"].get<std::vector<int>>();
      REQUIRE(ids.size() > 48);
      ids.resize(48);
      CHECK(ids == ref["input_ids"][i].get<std::vector<int>>());
    }
    // a .txt file is one record; a directory holding only the tokenizer files works the same
    std::ofstream(tmp / "one.txt") << ref["texts"][1].get<std::string>();
    fs::create_directory(tmp / "tok");
    fs::copy_file(kModel / "tokenizer.json", tmp / "tok" / "tokenizer.json");
    fs::copy_file(kModel / "tokenizer_config.json", tmp / "tok" / "tokenizer_config.json");
    const CliResult t =
        run_cli({"tokenize", (tmp / "tok").string(), (tmp / "one.txt").string(), "--json"});
    REQUIRE(t.exit_code == 0);
    CHECK(t.out == "{\"line\":1," + out[1].substr(out[1].find("\"input_ids\"")) + "\n");
    const CliResult plain = run_cli({"tokenize", kModel.string(), (tmp / "one.txt").string()});
    CHECK(plain.exit_code == 0);
    CHECK(plain.out.rfind("line 1 (75 tokens): 1 288 72 304", 0) == 0);
  }

  TEST_CASE("perplexity and calibrate on text data record the tokenizer and its sha256") {
    TempDir tmp;
    const fs::path texts = write_texts(tmp);
    const json p = run_json({"perplexity", kModel.string(), "--data", texts.string(), "--json"});
    CHECK(p["tokenizer"]["sha256"] == kTokenizerSha);
    CHECK(p["tokenizer"]["path"] == (kModel / "tokenizer.json").string());
    // the same ids given as input_ids give the same perplexity, and no tokenizer entry
    const CliResult ids = run_cli({"tokenize", kModel.string(), texts.string(), "--json"});
    std::ofstream(tmp / "ids.jsonl") << ids.out;
    const json q =
        run_json({"perplexity", kModel.string(), "--data", (tmp / "ids.jsonl").string(), "--json"});
    CHECK(q["ppl"] == p["ppl"]);
    CHECK(q["n_tokens_scored"] == p["n_tokens_scored"]);
    CHECK(q["tokenizer"].is_null());
    const json c =
        run_json({"calibrate", kModel.string(), "--dry-run", "--json", "--data", texts.string()});
    CHECK(c["calibration"]["tokenizer"]["sha256"] == kTokenizerSha);
    CHECK(c["calibration"]["tokens"] == 55 + 75);
  }

  TEST_CASE("invalid UTF-8 in text data: exit 2 naming file, line and byte offset") {
    TempDir tmp;
    std::ofstream(tmp / "bad.txt") << "fine text\nthen \xC3\x28 broken";
    CliResult r = run_cli({"tokenize", kModel.string(), (tmp / "bad.txt").string()});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find((tmp / "bad.txt").string() + ": invalid UTF-8 at byte offset 15 ") !=
          std::string::npos);
    std::ofstream(tmp / "bad.jsonl") << "{\"text\": \"ok\"}\n{\"text\": \"a\xFF\"}\n";
    r = run_cli({"perplexity", kModel.string(), "--data", (tmp / "bad.jsonl").string()});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("bad.jsonl:2: invalid UTF-8 at byte offset 26 ") != std::string::npos);
    CHECK(r.out.empty());
  }

  TEST_CASE("unsupported or missing tokenizer: exit 2 naming the feature") {
    TempDir tmp;
    json tok = json::parse(read_file(kModel / "tokenizer.json"));
    tok["model"]["type"] = "Unigram";
    std::ofstream(tmp / "tokenizer.json") << tok.dump();
    std::ofstream(tmp / "t.txt") << "hello";
    CliResult r = run_cli({"tokenize", tmp.path().string(), (tmp / "t.txt").string()});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("model type: unsupported tokenizer feature 'Unigram'") != std::string::npos);
    tok = json::parse(read_file(kModel / "tokenizer.json"));
    tok["pre_tokenizer"] = {{"type", "UnicodeScripts"}};
    std::ofstream(tmp / "tokenizer.json") << tok.dump();
    r = run_cli({"tokenize", tmp.path().string(), (tmp / "t.txt").string()});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("pre_tokenizer type: unsupported tokenizer feature 'UnicodeScripts'") !=
          std::string::npos);
    r = run_cli({"tokenize", (testdata() / "tiny-mixtral").string(), (tmp / "t.txt").string()});
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("no tokenizer.json") != std::string::npos);
  }
}
