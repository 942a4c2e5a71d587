#include "core/text_file.hpp"

#include <fstream>
#include <sstream>

#include "core/error.hpp"

namespace moerecal {

std::string read_text_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw FormatError(p.string() + ": cannot open");
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(p, ec);
  if (!ec && size > kMaxTextFileBytes) {
    throw FormatError(p.string() + ": " + std::to_string(size) + " bytes (expected at most " +
                      std::to_string(kMaxTextFileBytes) + " for a JSON or text file read whole)");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace moerecal
