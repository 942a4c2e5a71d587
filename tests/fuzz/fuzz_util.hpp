// Helpers shared by the libFuzzer harnesses: a scratch directory for the parsers that read files
// (one per process, removed at exit) and the policy every harness follows: moerecal::Error is the
// expected outcome of malformed input; anything else escapes and libFuzzer reports it as a crash.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace moerecal::fuzz {

// A fresh directory for this process (created on first use, removed at exit).
const std::filesystem::path& scratch_dir();

// Writes `bytes` to `path` (created or truncated); aborts on failure (a harness bug).
void write_bytes(const std::filesystem::path& path, std::string_view bytes);

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// Splits `in` at the first occurrence of `sep`: {before, after}; after is empty when absent.
std::pair<std::string_view, std::string_view> split_once(std::string_view in, std::string_view sep);

}  // namespace moerecal::fuzz
