// --expert-memory 0 streams every layer's experts (one per worker at a time) instead of keeping
// them widened: the results must be the same bits as the resident run. perplexity reads each
// expert once and streams either way; eval and calibrate --data hold them resident by default.
#include <doctest/doctest.h>

#include "fixtures.hpp"
#include "run_cli.hpp"

using namespace moerecal::test;
namespace fs = std::filesystem;
using nlohmann::json;

TEST_SUITE("cli") {
  TEST_CASE("streamed experts give the resident run's perplexity, routers and eval") {
    const std::string data = (testdata() / "calibration.jsonl").string();
    for (const char* name : {"tiny-qwen2-moe", "tiny-deepseek-v3-fp8"}) {
      CAPTURE(name);
      const fs::path fx = testdata() / name;
      const json a = run_json({"perplexity", fx.string(), "--data", data, "--json"});
      const json b =
          run_json({"--expert-memory", "0", "perplexity", fx.string(), "--data", data, "--json"});
      CHECK(a["ppl"] == b["ppl"]);
      TempDir tmp;
      const json ca = run_json(
          {"calibrate", fx.string(), "-o", (tmp / "a").string(), "--data", data, "--json"});
      const json cb = run_json({"--expert-memory", "0", "calibrate", fx.string(), "-o",
                                (tmp / "b").string(), "--data", data, "--json"});
      CHECK(ca["router_id"] == cb["router_id"]);
      CHECK(ca["layers"] == cb["layers"]);
      const json ea = run_json({"eval", fx.string(), (tmp / "a").string(), "--data", data});
      const json eb = run_json(
          {"--expert-memory", "0", "eval", fx.string(), (tmp / "a").string(), "--data", data});
      CHECK(ea["metrics"] == eb["metrics"]);
      CHECK(ea["layers"] == eb["layers"]);
    }
  }
}
