// Shared helpers for CLI tests: fixture discovery, temp dirs, JSON output of the binary.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace moerecal::test {

// testdata/tiny-* checkpoint directories, sorted.
std::vector<std::filesystem::path> tiny_fixtures();

// A fresh empty directory under the system temp dir, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& s) const { return path_ / s; }

 private:
  std::filesystem::path path_;
};

// Runs the binary with args (expects exit 0) and parses stdout as JSON.
nlohmann::json run_json(const std::vector<std::string>& args);

std::string read_file(const std::filesystem::path& p);

}  // namespace moerecal::test
