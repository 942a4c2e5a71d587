// Runs the real moe-recal binary as a user would, capturing exit status, stdout and stderr.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace moerecal::test {

struct CliResult {
  int exit_code = -1;  // 128+signal when killed by a signal
  std::string out;
  std::string err;
};

CliResult run_cli(const std::vector<std::string>& args);

// Digest of every regular file under `dir` (path, size, mtime, sha256), to prove inputs untouched.
std::string tree_fingerprint(const std::filesystem::path& dir);

std::filesystem::path testdata();

}  // namespace moerecal::test
