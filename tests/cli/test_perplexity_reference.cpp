// `perplexity` on every tiny fixture against the independent numpy reference's PPL of
// testdata/calibration.jsonl at the --ctx recorded with it (metadata of
// testdata/tiny-*/expected/golden.safetensors, written by tools/ref_goldens.py).
#include <doctest/doctest.h>

#include <string>

#include "fixtures.hpp"
#include "io/safetensors.hpp"
#include "run_cli.hpp"

using namespace moerecal::test;
namespace fs = std::filesystem;
using nlohmann::json;

TEST_SUITE("cli") {
  TEST_CASE("perplexity of every tiny fixture matches the numpy reference within 1e-4 relative") {
    for (const fs::path& dir : tiny_fixtures()) {
      CAPTURE(dir.filename().string());
      const auto golden =
          moerecal::io::SafetensorsFile::open(dir / "expected" / "golden.safetensors");
      const auto& meta = golden.metadata();
      REQUIRE(meta.count("ppl") == 1);
      const double want_ppl = std::stod(meta.at("ppl"));
      const double want_nll = std::stod(meta.at("nll_mean"));
      const json got = run_json({"perplexity", dir.string(), "--data",
                                 (testdata() / "calibration.jsonl").string(), "--ctx",
                                 meta.at("ctx"), "--json"});
      CHECK(got["ctx"] == std::stol(meta.at("ctx")));
      CHECK(got["n_windows"] == std::stol(meta.at("n_windows")));
      CHECK(got["n_tokens_scored"] == std::stol(meta.at("n_tokens_scored")));
      const double ppl = got["ppl"].get<double>();
      MESSAGE(dir.filename().string() << ": ppl " << ppl << " vs reference " << want_ppl
                                      << ", relative difference " << ppl / want_ppl - 1);
      CHECK(ppl == doctest::Approx(want_ppl).epsilon(1e-4));
      CHECK(got["nll_mean"].get<double>() == doctest::Approx(want_nll).epsilon(1e-4));
    }
  }
}
