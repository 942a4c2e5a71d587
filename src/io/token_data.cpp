#include "io/token_data.hpp"

#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "core/sha256.hpp"

namespace moerecal::io {
namespace {

std::vector<int> parse_line(const std::string& file, int line_no, const std::string& line) {
  const std::string at = file + ":" + std::to_string(line_no) + ": ";
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded()) throw FormatError(at + "not valid JSON");
  if (!j.is_object())
    throw FormatError(at + "expected a JSON object, found " + std::string(j.type_name()));
  if (!j.contains("input_ids")) {
    if (j.contains("text")) {
      throw FormatError(at +
                        "\"text\" records need the tokenizer, which this version does not "
                        "have yet; give \"input_ids\"");
    }
    throw FormatError(at + "expected \"input_ids\": [...] (or \"text\")");
  }
  const nlohmann::json& ids = j["input_ids"];
  if (!ids.is_array()) throw FormatError(at + "\"input_ids\": expected a list of integers");
  std::vector<int> out;
  out.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (!ids[i].is_number_integer() || ids[i].get<std::int64_t>() < 0 ||
        ids[i].get<std::int64_t>() > (1ll << 31) - 1) {
      throw FormatError(at + "\"input_ids\"[" + std::to_string(i) +
                        "]: expected a non-negative "
                        "integer, found " +
                        ids[i].dump());
    }
    out.push_back(ids[i].get<int>());
  }
  return out;
}

}  // namespace

TokenData read_token_data(const std::filesystem::path& path, int ctx, std::int64_t max_tokens) {
  if (ctx < 2) throw UsageError("--ctx: expected at least 2, found " + std::to_string(ctx));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FormatError(path.string() + ": cannot open");
  TokenData d{path, sha256_file(path), 0, 0, ctx, {}};
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::vector<int> ids = parse_line(path.string(), line_no, line);
    ++d.records;
    for (std::size_t off = 0; off < ids.size(); off += ctx) {
      std::size_t n = std::min<std::size_t>(ctx, ids.size() - off);
      if (max_tokens > 0)
        n = std::min<std::size_t>(n, static_cast<std::size_t>(max_tokens - d.tokens));
      if (n < 2) break;
      d.windows.push_back({std::vector<int>(ids.begin() + off, ids.begin() + off + n), line_no,
                           static_cast<int>(off)});
      d.tokens += static_cast<std::int64_t>(n);
    }
    if (max_tokens > 0 && d.tokens >= max_tokens) break;
  }
  if (d.windows.empty()) {
    throw FormatError(path.string() +
                      ": no window of at least 2 tokens (expected JSONL records "
                      "with \"input_ids\")");
  }
  return d;
}

void check_vocab(const TokenData& data, int vocab) {
  for (const Window& w : data.windows) {
    for (std::size_t i = 0; i < w.ids.size(); ++i) {
      if (w.ids[i] >= vocab) {
        throw FormatError(data.path.string() + ":" + std::to_string(w.line) + ": \"input_ids\"[" +
                          std::to_string(w.offset + i) + "] = " + std::to_string(w.ids[i]) +
                          " is outside the vocabulary (expected < " + std::to_string(vocab) + ")");
      }
    }
  }
}

}  // namespace moerecal::io
