// Modules include only the modules below them (STYLE.md layout):
// core <- io <- model; core <- linalg; core <- tokenizer;
// model + linalg <- engine <- recal <- report <- cli (cli also uses tokenizer).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>

namespace fs = std::filesystem;

TEST_SUITE("core") {
  TEST_CASE("no source file includes a module above its own") {
    const std::map<std::string, std::set<std::string>> allowed = {
        {"core", {"core"}},
        {"io", {"core", "io"}},
        {"model", {"core", "io", "model"}},
        {"linalg", {"core", "linalg"}},
        {"tokenizer", {"core", "tokenizer"}},
        {"engine", {"core", "io", "model", "linalg", "engine"}},
        {"recal", {"core", "io", "model", "linalg", "engine", "recal"}},
        {"report", {"core", "io", "model", "linalg", "engine", "recal", "report"}},
        {"cli", {"core", "io", "model", "linalg", "engine", "recal", "report", "tokenizer", "cli"}},
    };
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
