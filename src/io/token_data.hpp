// Calibration / eval data (DESIGN.md §3): .jsonl, one JSON object per line holding "input_ids"
// (used exactly as given) or "text" (needs the tokenizer, not available yet: exit 2). Each record
// is its own sequence, cut into consecutive windows of at most ctx tokens; windows under 2 tokens
// are dropped; max_tokens (0 = no cap) limits the total.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace moerecal::io {

struct Window {
  std::vector<int> ids;
  int line = 0;    // 1-based line of the record in the file
  int offset = 0;  // position of the window's first token within the record
};

struct TokenData {
  std::filesystem::path path;
  std::string sha256;
  int records = 0;
  std::int64_t tokens = 0;  // tokens in the kept windows
  int ctx = 0;
  std::vector<Window> windows;
};

// Throws FormatError naming the file and line for malformed lines, wrong types, negative ids,
// "text" records, or a file that yields no window.
TokenData read_token_data(const std::filesystem::path& path, int ctx, std::int64_t max_tokens);

// Every id must be < vocab; FormatError naming file, line and position otherwise.
void check_vocab(const TokenData& data, int vocab);

}  // namespace moerecal::io
