// Calibration / eval data (DESIGN.md §3): .jsonl, one JSON object per line holding "input_ids"
// (used exactly as given) or "text" (turned into ids by a TextEncoder, the model's tokenizer);
// .txt, the whole file one text record (line 1). A JSONL record may carry "slice": "<name>" (a
// domain or task; eval reports every metric per slice). Each record is its own sequence, cut into
// consecutive windows of at most ctx tokens; windows under 2 tokens are dropped; max_tokens
// (0 = no cap) limits the total.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace moerecal::io {

// One record (a JSONL line, a whole .txt file) may hold at most this many bytes; a longer one is a
// FormatError naming the file and line, found before the rest of it is read.
inline constexpr std::size_t kMaxRecordBytes = 64u << 20;

// Text -> token ids, supplied by a layer above io (the tokenizer). `where` names file and line for
// errors; `base` is the text's byte offset in its file (for invalid UTF-8 messages).
class TextEncoder {
 public:
  virtual ~TextEncoder() = default;
  virtual std::vector<int> encode(std::string_view text, const std::string& where,
                                  std::size_t base) = 0;
  virtual std::string name() const = 0;    // the tokenizer file, for reports
  virtual std::string sha256() const = 0;  // of that file
};

struct Window {
  std::vector<int> ids;
  int line = 0;       // 1-based line of the record in the file
  int offset = 0;     // position of the window's first token within the record
  std::string slice;  // the record's "slice"; empty when it has none
};

struct TokenData {
  std::filesystem::path path;
  std::string sha256;
  int records = 0;
  std::int64_t tokens = 0;  // tokens in the kept windows
  int ctx = 0;
  std::vector<Window> windows;
  int text_records = 0;          // records that were tokenized
  std::string tokenizer;         // the encoder's name() when text_records > 0, else empty
  std::string tokenizer_sha256;  // the encoder's sha256() when text_records > 0, else empty
  // record_fingerprint() of every record that gave at least one window, in file order.
  std::vector<std::string> record_fingerprints;
};

struct Record {
  int line = 0;
  std::vector<int> ids;
  bool from_text = false;
  std::string slice;  // "slice" of a JSONL record; empty when absent
};

// A record's fingerprint: the first 16 hex digits of the sha256 of its token ids, each written as
// 4 bytes little-endian (uint32). Equal ids give equal fingerprints, whatever the file or text.
std::string record_fingerprint(const std::vector<int>& ids);

// Calls fn for every record of the file in order until fn returns false. `encoder` may be null
// (then "text" records and .txt files are a FormatError). Throws FormatError naming the file and
// line for malformed lines, wrong types (a "slice" that is not a non-empty string included),
// negative ids and invalid UTF-8 (with its byte offset).
void for_each_record(const std::filesystem::path& path, TextEncoder* encoder,
                     const std::function<bool(Record&&)>& fn);

// Reads and windows a data file (see the top of this file). Also throws FormatError for a file
// that yields no window.
TokenData read_token_data(const std::filesystem::path& path, int ctx, std::int64_t max_tokens,
                          TextEncoder* encoder = nullptr);

// Every id must be < vocab; FormatError naming file, line and position otherwise.
void check_vocab(const TokenData& data, int vocab);

}  // namespace moerecal::io
