#include "io/token_data.hpp"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.hpp"
#include "core/json_depth.hpp"
#include "core/sha256.hpp"
#include "core/utf8.hpp"

namespace moerecal::io {
namespace {

std::vector<int> parse_ids(const nlohmann::json& ids, const std::string& at) {
  if (!ids.is_array()) throw FormatError(at + "\"input_ids\": expected a list of integers");
  std::vector<int> out;
  out.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (!ids[i].is_number_integer() || ids[i].get<std::int64_t>() < 0 ||
        ids[i].get<std::int64_t>() > (1ll << 31) - 1) {
      throw FormatError(at + "\"input_ids\"[" + std::to_string(i) +
                        "]: expected a non-negative integer, found " + ids[i].dump());
    }
    out.push_back(ids[i].get<int>());
  }
  return out;
}

std::string parse_slice(const nlohmann::json& j, const std::string& at) {
  if (!j.contains("slice")) return "";
  const nlohmann::json& s = j["slice"];
  if (!s.is_string() || s.get<std::string>().empty()) {
    throw FormatError(at + "\"slice\": expected a non-empty string, found " +
                      (s.is_string() ? std::string("\"\"") : s.dump()));
  }
  return s.get<std::string>();
}

Record parse_line(const std::string& file, int line_no, std::size_t base, const std::string& line,
                  TextEncoder* encoder) {
  const std::string where = file + ":" + std::to_string(line_no);
  const std::string at = where + ": ";
  require_utf8(line, where, base);
  require_json_depth(line, where);
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
  if (j.is_discarded()) throw FormatError(at + "not valid JSON");
  if (!j.is_object())
    throw FormatError(at + "expected a JSON object, found " + std::string(j.type_name()));
  std::string slice = parse_slice(j, at);
  if (j.contains("input_ids"))
    return {line_no, parse_ids(j["input_ids"], at), false, std::move(slice)};
  if (!j.contains("text")) throw FormatError(at + "expected \"input_ids\": [...] or \"text\"");
  if (!j["text"].is_string()) {
    throw FormatError(at + "\"text\": expected a string, found " +
                      std::string(j["text"].type_name()));
  }
  if (!encoder) throw FormatError(at + "\"text\" records need the model's tokenizer");
  return {line_no, encoder->encode(j["text"].get<std::string>(), where + ": \"text\"", 0), true,
          std::move(slice)};
}

[[noreturn]] void too_long(const std::string& where, const char* what) {
  throw FormatError(where + ": " + what + " longer than " + std::to_string(kMaxRecordBytes) +
                    " bytes (the limit for one record; split it into several)");
}

// The next line of `in` (without '\n') into `line`; false at the end. Stops reading and throws
// as soon as the line passes kMaxRecordBytes, so a 1 GB line is never held in memory.
bool read_line(std::istream& in, std::string& line, const std::string& where) {
  line.clear();
  char buf[1 << 16];
  for (;;) {
    in.getline(buf, sizeof buf);
    const auto n = static_cast<std::size_t>(in.gcount());
    if (!in.fail()) {  // ended by '\n' (counted in n) or by the end of the file
      line.append(buf, in.eof() ? n : n - 1);
      return true;
    }
    if (in.eof() || in.bad()) return !line.empty() || n > 0;  // last line, no '\n'
    line.append(buf, n);  // the buffer filled up: the line goes on
    in.clear();
    if (line.size() > kMaxRecordBytes) too_long(where, "line");
  }
}

void read_txt(const std::filesystem::path& path, std::ifstream& in, TextEncoder* encoder,
              const std::function<bool(Record&&)>& fn) {
  if (!encoder) throw FormatError(path.string() + ": a .txt file needs the model's tokenizer");
  std::error_code ec;
  if (std::filesystem::file_size(path, ec) > kMaxRecordBytes && !ec) too_long(path, "file");
  std::ostringstream ss;
  ss << in.rdbuf();
  fn({1, encoder->encode(ss.str(), path.string(), 0), true, ""});
}

}  // namespace

std::string record_fingerprint(const std::vector<int>& ids) {
  std::vector<std::byte> bytes(ids.size() * 4);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto v = static_cast<std::uint32_t>(ids[i]);
    for (int b = 0; b < 4; ++b) bytes[4 * i + b] = static_cast<std::byte>((v >> (8 * b)) & 0xff);
  }
  Sha256 h;
  h.update(bytes);
  return h.hex().substr(0, 16);
}

void for_each_record(const std::filesystem::path& path, TextEncoder* encoder,
                     const std::function<bool(Record&&)>& fn) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw FormatError(path.string() + ": cannot open");
  if (path.extension() == ".txt") return read_txt(path, in, encoder, fn);
  std::string line;
  int line_no = 0;
  std::size_t offset = 0;  // of the line in the file
  for (; read_line(in, line, path.string() + ":" + std::to_string(line_no + 1));
       offset += line.size() + 1) {
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    if (!fn(parse_line(path.string(), line_no, offset, line, encoder))) return;
  }
}

TokenData read_token_data(const std::filesystem::path& path, int ctx, std::int64_t max_tokens,
                          TextEncoder* encoder) {
  if (ctx < 2)
    throw UsageError("window length: expected at least 2 tokens, found " + std::to_string(ctx));
  TokenData d;
  d.path = path;
  d.ctx = ctx;
  for_each_record(path, encoder, [&](Record&& r) {
    ++d.records;
    d.text_records += r.from_text ? 1 : 0;
    const std::vector<int>& ids = r.ids;
    const std::size_t first = d.windows.size();
    for (std::size_t off = 0; off < ids.size(); off += ctx) {
      std::size_t n = std::min<std::size_t>(ctx, ids.size() - off);
      if (max_tokens > 0)
        n = std::min<std::size_t>(n, static_cast<std::size_t>(max_tokens - d.tokens));
      if (n < 2) break;
      d.windows.push_back({std::vector<int>(ids.begin() + off, ids.begin() + off + n), r.line,
                           static_cast<int>(off), r.slice});
      d.tokens += static_cast<std::int64_t>(n);
    }
    if (d.windows.size() > first) d.record_fingerprints.push_back(record_fingerprint(ids));
    return !(max_tokens > 0 && d.tokens >= max_tokens);
  });
  if (d.windows.empty()) {
    throw FormatError(path.string() +
                      ": no window of at least 2 tokens (expected JSONL records with "
                      "\"input_ids\" or \"text\", or a .txt file)");
  }
  d.sha256 = sha256_file(path);
  if (d.text_records > 0) {
    d.tokenizer = encoder->name();
    d.tokenizer_sha256 = encoder->sha256();
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
