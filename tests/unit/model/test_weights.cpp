// Typed weight access: whole matrices and streamed row blocks give the stored values widened to
// f32 (checked against an independent decode of the bytes), and a non-finite weight is refused
// naming the tensor and the element.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/dtype.hpp"
#include "core/error.hpp"
#include "model/model.hpp"
#include "model/tensors.hpp"
#include "model/weights.hpp"

using namespace moerecal;
namespace fs = std::filesystem;

namespace {

// bf16 bits -> f32 by placing them in the high half (a different route than core/dtype).
float bf16(std::uint16_t h) {
  const std::uint32_t u = std::uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

}  // namespace

TEST_SUITE("model") {
  TEST_CASE("WeightReader: a matrix and its row blocks are the stored bf16 values") {
    const auto m = model::MoeModel::open(fs::path(MR_TESTDATA_DIR) / "tiny-mixtral");
    const model::LayerTensors layer = model::layer_tensors(m.spec, 1);
    const model::MatrixRef& w = layer.moe.experts[5].down;
    const io::TensorRef r = m.ckpt.get(w.tensor.name);
    REQUIRE(r.info->dtype == DType::kBF16);
    const auto bytes = r.file->bytes(*r.info);
    const model::WeightReader reader(m);
    std::vector<float> all;
    reader.read(w, all);
    REQUIRE(all.size() == std::size_t(w.rows) * w.cols);
    for (std::size_t i = 0; i < all.size(); ++i) {
      std::uint16_t h;
      std::memcpy(&h, bytes.data() + 2 * i, 2);
      REQUIRE(all[i] == bf16(h));
    }
    std::vector<float> block(std::size_t(7) * w.cols);
    reader.read_rows(w, 13, 20, block.data());
    for (std::size_t i = 0; i < block.size(); ++i) CHECK(block[i] == all[13 * w.cols + i]);
  }

  TEST_CASE("WeightReader: a NaN weight is a FormatError naming the tensor and the element") {
    const fs::path src = fs::path(MR_TESTDATA_DIR) / "tiny-olmoe";  // F32, one file
    const fs::path dir = fs::temp_directory_path() / "mr-weights-nan";
    fs::remove_all(dir);
    fs::copy(src, dir, fs::copy_options::recursive);
    std::string name;
    {
      const auto m = model::MoeModel::open(dir);
      name = model::layer_tensors(m.spec, 0).attn.k.weight.tensor.name;
      const io::TensorRef r = m.ckpt.get(name);
      std::fstream f(dir / "model.safetensors", std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(static_cast<std::streamoff>(r.file->file_offset(*r.info) + 4 * 37));
      const float nan = std::nanf("");
      f.write(reinterpret_cast<const char*>(&nan), 4);
    }
    const auto m = model::MoeModel::open(dir);  // only routers are read at open
    const model::WeightReader reader(m);
    std::vector<float> out;
    const std::string want = "'" + name + "': element 37 is nan";
    CHECK_THROWS_WITH_AS(reader.read(model::layer_tensors(m.spec, 0).attn.k.weight, out),
                         doctest::Contains(want.c_str()), FormatError);
    fs::remove_all(dir);
  }

  TEST_CASE("a config that disagrees with the weights throughout stops at 1000 problems") {
    const fs::path dir = fs::temp_directory_path() / "mr-weights-layers";
    fs::remove_all(dir);
    fs::copy(fs::path(MR_TESTDATA_DIR) / "tiny-olmoe", dir, fs::copy_options::recursive);
    nlohmann::json c = nlohmann::json::parse(std::ifstream(dir / "config.json"));
    c["num_hidden_layers"] = 4096;  // the fixture has 2: some 10,000 tensors missing
    std::ofstream(dir / "config.json") << c.dump();
    try {
      (void)model::MoeModel::open(dir);
      FAIL("opened");
    } catch (const ShapeError& e) {
      const std::string msg = e.what();
      CHECK(msg.find("... and 980 more problems") != std::string::npos);
      CHECK(msg.find("(checking stopped after 1000 problems: config.json does not describe these "
                     "weights)") != std::string::npos);
      CHECK(msg.find("model.layers.2.") != std::string::npos);  // the first missing layer
    }
    fs::remove_all(dir);
  }
}
