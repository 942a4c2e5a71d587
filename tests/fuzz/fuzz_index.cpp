// A sharded checkpoint whose model.safetensors.index.json is the fuzz input: the shards and
// config.json of testdata/tiny-mixtral (3 shards) copied once into a scratch directory.
#include <cstddef>
#include <cstdint>
#include <filesystem>

#include "core/error.hpp"
#include "fuzz_util.hpp"
#include "io/checkpoint.hpp"

namespace fs = std::filesystem;

namespace {

const fs::path& checkpoint_dir() {
  static const fs::path dir = [] {
    const fs::path d = moerecal::fuzz::scratch_dir() / "ckpt";
    fs::create_directories(d);
    for (const auto& e : fs::directory_iterator(fs::path(MR_TESTDATA_DIR) / "tiny-mixtral")) {
      if (e.is_regular_file()) fs::copy_file(e.path(), d / e.path().filename());
    }
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace moerecal;
  const fs::path dir = checkpoint_dir();
  fuzz::write_bytes(dir / "model.safetensors.index.json", fuzz::as_text(data, size));
  try {
    const io::Checkpoint c = io::Checkpoint::open(dir);
    for (const std::string& name : c.tensor_names()) {
      if (c.get(name).file == nullptr) __builtin_trap();
    }
  } catch (const Error&) {
  }
  return 0;
}
