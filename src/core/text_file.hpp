// Whole-file reads for the small text files the tool consumes (configs, tokenizers, reports).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace moerecal {

// The largest JSON/text file read whole (config.json, the index, tokenizer.json, reports,
// changelogs): the biggest real tokenizer.json files are under 40 MB.
inline constexpr std::uint64_t kMaxTextFileBytes = 256ull << 20;

// The file's bytes. Throws FormatError "<path>: cannot open" when it cannot be read and
// "<path>: N bytes (expected at most 268435456 ...)" when it is larger than kMaxTextFileBytes.
std::string read_text_file(const std::filesystem::path& p);

}  // namespace moerecal
