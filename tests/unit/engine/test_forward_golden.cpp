// The forward pass against goldens of the independent numpy reference (tools/ref_forward.py,
// float64, written from ARCHITECTURES.md): full log-probability rows of two short sequences per
// tiny fixture (testdata/tiny-*/expected/golden.safetensors, tools/ref_goldens.py).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "engine/forward.hpp"
#include "engine/lm_head.hpp"
#include "io/safetensors.hpp"

using namespace moerecal;
namespace fs = std::filesystem;

TEST_SUITE("engine") {
  TEST_CASE("log-probabilities of every tiny fixture match the numpy reference within 1e-4") {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(MR_TESTDATA_DIR)) {
      const std::string n = e.path().filename().string();
      if (n.rfind("tiny-", 0) == 0) names.push_back(n);
    }
    std::sort(names.begin(), names.end());
    REQUIRE(names.size() >= 13);
    for (const std::string& name : names) {
      CAPTURE(name);
      const fs::path dir = fs::path(MR_TESTDATA_DIR) / name;
      const model::MoeModel m = model::MoeModel::open(dir);
      const io::SafetensorsFile golden =
          io::SafetensorsFile::open(dir / "expected" / "golden.safetensors");
      auto be = linalg::make_backend();
      int n_seqs = 0;
      for (int s = 0;; ++s, ++n_seqs) {
        const auto* ids_t = golden.find("input_ids." + std::to_string(s));
        if (ids_t == nullptr) break;
        CAPTURE(s);
        std::vector<int> ids;
        for (float v : golden.read_f32(*ids_t)) ids.push_back(static_cast<int>(v));
        const auto* want_t = golden.find("log_probs." + std::to_string(s));
        REQUIRE(want_t != nullptr);
        const std::vector<float> want = golden.read_f32(*want_t);
        const auto h = engine::run_layers(m, *be, {ids}, {});
        const std::vector<float> got = engine::log_probs(m, *be, h);
        REQUIRE(got.size() == want.size());
        double worst = 0;
        for (std::size_t i = 0; i < got.size(); ++i)
          worst = std::max(worst, std::abs(double{got[i]} - want[i]));
        MESSAGE(name << " sequence " << s << " (" << ids.size()
                     << " tokens): max abs log-prob difference vs reference " << worst);
        CHECK(worst < 1e-4);
      }
      CHECK(n_seqs >= 2);
    }
  }
}
