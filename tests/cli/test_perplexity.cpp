// perplexity against the NLL computed from transformers' own log-probabilities, and data errors.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>

#include "fixtures.hpp"
#include "io/safetensors.hpp"
#include "run_cli.hpp"

using namespace moerecal::test;
namespace fs = std::filesystem;
using nlohmann::json;

TEST_SUITE("cli") {
  TEST_CASE(
      "perplexity equals exp(mean NLL) of transformers' log-probs over each window's second half") {
    for (const char* name : {"hf-mixtral", "hf-olmoe", "hf-qwen2-moe", "hf-qwen3-moe"}) {
      CAPTURE(name);
      const fs::path dir = testdata() / "hf" / name;
      const json inputs = json::parse(read_file(dir / "reference" / "inputs.json"));
      const auto ref =
          moerecal::io::SafetensorsFile::open(dir / "reference" / "outputs.safetensors");
      TempDir tmp;
      const fs::path data = tmp / "data.jsonl";
      std::ofstream out(data);
      double nll = 0;
      long scored = 0;
      const auto seqs = inputs["input_ids"].get<std::vector<std::vector<int>>>();
      for (std::size_t s = 0; s < seqs.size(); ++s) {
        out << json{{"input_ids", seqs[s]}}.dump() << "\n";
        const auto lp = ref.read_f32(*ref.find("log_probs." + std::to_string(s)));
        const std::size_t n = seqs[s].size(), V = lp.size() / n;
        for (std::size_t p = n / 2; p + 1 < n; ++p) nll -= lp[p * V + seqs[s][p + 1]], ++scored;
      }
      out.close();
      const json got = run_json({"perplexity", dir.string(), "--data", data.string(), "--json"});
      CHECK(got["n_tokens_scored"] == scored);
      CHECK(got["n_sequences"] == seqs.size());
      CHECK(got["ctx"] == 512);
      CHECK(got["ppl"].get<double>() == doctest::Approx(std::exp(nll / scored)).epsilon(1e-4));
      CHECK(got["nll_mean"].get<double>() == doctest::Approx(nll / scored).epsilon(1e-4));
    }
  }

  TEST_CASE("windows: records cut at --ctx / short windows dropped / --max-tokens caps") {
    TempDir tmp;
    std::ofstream(tmp / "d.jsonl") << R"({"input_ids": [1,2,3,4,5,6,7,8,9,10]})"
                                      "\n\n"
                                   << R"({"input_ids": [4,5,6,7,8]})"
                                      "\n";
    const std::string model = (testdata() / "tiny-mixtral").string();
    // ctx 4: record 1 -> windows of 4, 4, 2 tokens, record 2 -> 4 + 1 (dropped). A window of n
    // scores positions n/2 .. n-2: one token for n = 4, none for n = 2.
    json j = run_json(
        {"perplexity", model, "--data", (tmp / "d.jsonl").string(), "--ctx", "4", "--json"});
    CHECK(j["n_windows"] == 4);
    CHECK(j["n_sequences"] == 2);
    CHECK(j["n_tokens_scored"] == 1 + 1 + 0 + 1);
    j = run_json({"perplexity", model, "--data", (tmp / "d.jsonl").string(), "--ctx", "4",
                  "--max-tokens", "9", "--json"});
    CHECK(j["n_windows"] == 2);  // 4 + 4, then 1 token left: dropped
    CHECK(j["n_tokens_scored"] == 2);
  }

  TEST_CASE("bad data: exit 2 naming file and line") {
    TempDir tmp;
    const std::string model = (testdata() / "tiny-mixtral").string();
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"{\"input_ids\": [1, 2, 3]}\n{oops\n", ":2: not valid JSON"},
        {"{\"input_ids\": [1, -2, 3]}\n", ":1: \"input_ids\"[1]"},
        {"{\"input_ids\": \"1 2\"}\n", ":1: \"input_ids\": expected a list"},
        {"{\"text\": \"hello\"}\n", ":1: \"text\": "},  // tiny-mixtral has no tokenizer.json
        {"[1, 2]\n", ":1: expected a JSON object"},
        {"{\"input_ids\": [1, 2, 300]}\n", ":1: \"input_ids\"[2] = 300 is outside the vocabulary"},
        {"", "no window"},
    };
    for (const auto& [content, expect] : cases) {
      std::ofstream(tmp / "bad.jsonl") << content;
      const CliResult r = run_cli({"perplexity", model, "--data", (tmp / "bad.jsonl").string()});
      CAPTURE(expect);
      CAPTURE(r.err);
      CHECK(r.exit_code == 2);
      CHECK(r.err.find((tmp / "bad.jsonl").string()) != std::string::npos);
      CHECK(r.err.find(expect) != std::string::npos);
      CHECK(r.out.empty());
    }
  }
}
