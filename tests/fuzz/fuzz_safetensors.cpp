// The safetensors reader on a whole file image: header length, header JSON and every validation
// rule; then every widenable tensor of an accepted file widened to f32 (its bytes are in bounds).
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/dtype.hpp"
#include "core/error.hpp"
#include "io/safetensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace moerecal;
  const std::span<const std::byte> file(reinterpret_cast<const std::byte*>(data), size);
  try {
    const io::Header h = io::parse_header(file, "fuzz.safetensors");
    std::vector<float> out;
    for (const io::TensorInfo& t : h.tensors) {
      if (t.end > file.size() - h.data_start()) __builtin_trap();  // accepted past the end
      if (!is_widenable(t.dtype)) continue;
      out.resize(static_cast<std::size_t>(t.numel()));
      widen_to_f32(t.dtype, file.data() + h.data_start() + t.begin, out.data(), out.size());
    }
  } catch (const Error&) {
  }
  return 0;
}
