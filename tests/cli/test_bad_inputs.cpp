// Every malformed checkpoint in testdata/bad gives exit 2, a message naming the file and the
// tensor or key at fault, no output, and leaves the input untouched.
#include <doctest/doctest.h>

#include "fixtures.hpp"
#include "run_cli.hpp"

using namespace moerecal::test;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json bad_cases() {
  json cases = json::parse(read_file(testdata() / "bad" / "cases.json"));
  if (cases.is_object() && cases.contains("cases")) cases = cases["cases"];
  if (cases.is_object()) {  // {"name": {...}} -> [{...}]
    json list = json::array();
    for (auto& [k, v] : cases.items()) {
      if (!v.contains("dir")) v["dir"] = k;
      list.push_back(v);
    }
    cases = list;
  }
  return cases;
}

}  // namespace

TEST_SUITE("cli") {
  TEST_CASE("every bad checkpoint: exit 2 / names file and tensor/key / writes nothing") {
    const json cases = bad_cases();
    REQUIRE(cases.size() >= 15);
    for (const json& c : cases) {
      const fs::path dir = testdata() / "bad" / c["dir"].get<std::string>();
      CAPTURE(dir);
      REQUIRE(fs::is_directory(dir));
      const std::string fp = tree_fingerprint(dir);
      TempDir tmp;
      for (const std::vector<std::string>& args :
           {std::vector<std::string>{"inspect", dir.string()},
            std::vector<std::string>{"calibrate", dir.string(), "-o", (tmp / "out").string()}}) {
        const CliResult r = run_cli(args);
        CAPTURE(args[0]);
        CAPTURE(r.err);
        CHECK(r.exit_code == 2);
        CHECK(r.out.empty());
        CHECK(r.err.find(c["file"].get<std::string>()) != std::string::npos);
        for (const auto& name : c["names"]) {
          CHECK(r.err.find(name.get<std::string>()) != std::string::npos);
        }
        CHECK(r.err.find("terminate") == std::string::npos);
      }
      CHECK(!fs::exists(tmp / "out"));
      CHECK(std::distance(fs::directory_iterator(tmp.path()), fs::directory_iterator()) == 0);
      CHECK(tree_fingerprint(dir) == fp);
    }
  }
}
