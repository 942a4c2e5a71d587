// Whole-file reads for the small text files the tool consumes (configs, tokenizers, reports).
#pragma once

#include <filesystem>
#include <string>

namespace moerecal {

// The file's bytes. Throws FormatError "<path>: cannot open" when it cannot be read.
std::string read_text_file(const std::filesystem::path& p);

}  // namespace moerecal
