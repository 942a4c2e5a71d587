// tokenizer.json loading and encoding: the input is "<tokenizer.json>\n@@TEXT@@\n<text>"; without
// the separator the text is a fixed sample. Every id returned must be non-negative.
#include <cstddef>
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "fuzz_util.hpp"
#include "tokenizer/tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace moerecal;
  const auto [json_text, text] = fuzz::split_once(fuzz::as_text(data, size), "\n@@TEXT@@\n");
  const auto path = fuzz::scratch_dir() / "tokenizer.json";
  fuzz::write_bytes(path, json_text);
  try {
    const tokenizer::Tokenizer tok = tokenizer::Tokenizer::load(path);
    const std::string sample =
        text.empty() ? std::string("Hello world, it's 2026!  x\n\tdone") : std::string(text);
    for (bool special : {true, false}) {
      for (int id : tok.encode(sample, "fuzz", 0, special)) {
        if (id < 0) __builtin_trap();
      }
    }
  } catch (const Error&) {
  }
  return 0;
}
