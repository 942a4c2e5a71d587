// JSONL / text data reading: the input written as data.jsonl, or data.txt when it starts with #,
// read and windowed with a byte-level text encoder standing in for the tokenizer, then
// vocab-checked.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "fuzz_util.hpp"
#include "io/token_data.hpp"

namespace {

class ByteEncoder : public moerecal::io::TextEncoder {
 public:
  std::vector<int> encode(std::string_view text, const std::string&, std::size_t) override {
    std::vector<int> ids;
    for (char c : text) ids.push_back(static_cast<unsigned char>(c));
    return ids;
  }
  std::string name() const override { return "bytes"; }
  std::string sha256() const override { return std::string(64, '0'); }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace moerecal;
  const bool jsonl = size == 0 || data[0] != '#';
  const auto path = fuzz::scratch_dir() / (jsonl ? "data.jsonl" : "data.txt");
  fuzz::write_bytes(path, fuzz::as_text(data, size));
  ByteEncoder enc;
  try {
    const io::TokenData d = io::read_token_data(path, 8, size % 3 == 0 ? 0 : 64, &enc);
    for (const io::Window& w : d.windows) {
      if (w.ids.size() < 2 || w.ids.size() > 8) __builtin_trap();
      for (int id : w.ids) {
        if (id < 0) __builtin_trap();  // negative ids are refused, never passed on
      }
    }
    io::check_vocab(d, 200);
  } catch (const Error&) {
  }
  return 0;
}
