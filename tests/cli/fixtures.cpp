#include "fixtures.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "run_cli.hpp"

namespace moerecal::test {

std::vector<std::filesystem::path> tiny_fixtures() {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(testdata())) {
    if (e.is_directory() && e.path().filename().string().rfind("tiny-", 0) == 0) {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

TempDir::TempDir() {
  static int n = 0;
  path_ = std::filesystem::temp_directory_path() /
          ("mr-test-" + std::to_string(getpid()) + "-" + std::to_string(n++));
  std::filesystem::remove_all(path_);
  std::filesystem::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

nlohmann::json run_json(const std::vector<std::string>& args) {
  const CliResult r = run_cli(args);
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace moerecal::test
