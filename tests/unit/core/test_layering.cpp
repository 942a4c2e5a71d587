// Modules include only the modules below them (src/CMakeLists.txt, STYLE.md layout):
//   core <- io <- model;  core <- linalg;  core <- tokenizer;  core <- report
//   model + linalg <- engine;  model + linalg <- analysis;  model + report <- lineage
//   engine + analysis <- recal;  engine + analysis + report <- compare
//   recal + compare + lineage + tokenizer + report <- jobs <- cli
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <map>
#include <regex>
#include <set>
#include <string>

namespace fs = std::filesystem;

TEST_SUITE("core") {
  TEST_CASE("no source file includes a module above its own") {
    const std::set<std::string> model = {"core", "io", "model"};
    const auto with = [](std::set<std::string> a, std::initializer_list<std::string> b) {
      a.insert(b.begin(), b.end());
      return a;
    };
    std::map<std::string, std::set<std::string>> allowed = {
        {"core", {"core"}},
        {"io", {"core", "io"}},
        {"model", model},
        {"linalg", {"core", "linalg"}},
        {"tokenizer", {"core", "tokenizer"}},
        {"report", {"core", "report"}},
        {"engine", with(model, {"linalg", "engine"})},
        {"analysis", with(model, {"linalg", "analysis"})},
        {"lineage", with(model, {"report", "lineage"})},
    };
    allowed["recal"] = with(allowed["engine"], {"analysis", "recal"});
    allowed["compare"] = with(allowed["engine"], {"analysis", "report", "compare"});
    allowed["jobs"] = with(allowed["recal"], {"compare", "lineage", "tokenizer", "report", "jobs"});
    allowed["cli"] = with(allowed["jobs"], {"cli"});
    const std::regex inc(R"re(#include\s+"([a-z_]+)/)re");
    int files = 0;
    for (const auto& [module, ok] : allowed) {
      for (const auto& e : fs::directory_iterator(fs::path(MR_SOURCE_DIR) / "src" / module)) {
        const std::string ext = e.path().extension().string();
        if (ext != ".cpp" && ext != ".hpp" && ext != ".cu") continue;
        ++files;
        std::ifstream in(e.path());
        std::string line;
        while (std::getline(in, line)) {
          std::smatch m;
          if (std::regex_search(line, m, inc)) {
            CAPTURE(e.path().string());
            CAPTURE(line);
            CHECK(ok.count(m[1].str()) == 1);
          }
        }
      }
    }
    CHECK(files > 20);
  }
}
