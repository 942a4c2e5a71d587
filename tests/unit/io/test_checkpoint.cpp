// Checkpoint directories: single file, sharded with index, and each index inconsistency.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "io/checkpoint.hpp"
#include "io/staged_dir.hpp"

using namespace moerecal;
using namespace moerecal::io;
namespace fs = std::filesystem;

namespace {

const std::vector<float> kData = {1, 2, 3, 4, 5, 6};

struct Dir {
  fs::path p;
  Dir() {
    static int n = 0;
    p = fs::temp_directory_path() /
        ("mr-ckpt-" + std::to_string(getpid()) + "-" + std::to_string(n++));
    fs::remove_all(p);
    fs::create_directories(p);
    std::ofstream(p / "config.json") << R"({"model_type": "x"})";
  }
  ~Dir() { fs::remove_all(p); }
  void shard(const std::string& file, const std::vector<std::string>& names) {
    std::vector<TensorToWrite> ts;
    for (const auto& n : names)
      ts.push_back({n, DType::kF32, {2, 3}, std::as_bytes(std::span(kData))});
    write_safetensors(p / file, ts, {{"format", "pt"}});
  }
  void index(const std::string& body) { std::ofstream(p / "model.safetensors.index.json") << body; }
};

std::string open_error(const fs::path& p) {
  try {
    Checkpoint::open(p);
  } catch (const FormatError& e) {
    return e.what();
  }
  return "";
}

const char* kIndex =
    R"({"metadata": {"total_size": 48}, "weight_map": {"a": "s1.safetensors", "b": "s2.safetensors"}})";

}  // namespace

TEST_SUITE("io") {
  TEST_CASE("single-file and sharded checkpoints resolve every tensor") {
    Dir one;
    one.shard("model.safetensors", {"a", "b"});
    const Checkpoint c1 = Checkpoint::open(one.p);
    CHECK(!c1.sharded());
    CHECK(c1.tensor_names() == std::vector<std::string>{"a", "b"});
    CHECK(c1.read_f32("b") == kData);
    CHECK(c1.payload_bytes() == 48);
    CHECK(c1.config()["model_type"] == "x");
    CHECK_THROWS_WITH_AS(c1.get("zz"), doctest::Contains("tensor 'zz' not found"), FormatError);

    Dir two;
    two.shard("s1.safetensors", {"a"});
    two.shard("s2.safetensors", {"b"});
    two.index(kIndex);
    const Checkpoint c2 = Checkpoint::open(two.p);
    CHECK(c2.sharded());
    CHECK(c2.shards().size() == 2);
    CHECK(c2.find("b").file->path().filename() == "s2.safetensors");
    CHECK(c2.read_f32("a") == kData);
  }

  TEST_CASE("index inconsistencies name the index / the tensor and the shard") {
    Dir d;
    d.shard("s1.safetensors", {"a"});
    d.shard("s2.safetensors", {"b"});
    d.index(R"({"weight_map": {"a": "s1.safetensors", "b": "s3.safetensors"}})");
    std::string e = open_error(d.p);
    CHECK(e.find("model.safetensors.index.json: tensor 'b': shard 's3.safetensors' not found") !=
          std::string::npos);

    d.index(
        R"({"weight_map": {"a": "s1.safetensors", "b": "s2.safetensors", "c": "s2.safetensors"}})");
    e = open_error(d.p);
    CHECK(e.find("tensor 'c' is mapped to 's2.safetensors', which does not contain it") !=
          std::string::npos);

    d.index(R"({"weight_map": {"a": "s1.safetensors"}})");
    CHECK(open_error(d.p).empty());  // a shard file the index does not name is ignored
    d.shard("s1.safetensors", {"a", "x"});
    e = open_error(d.p);
    CHECK(e.find("tensor 'x' is not listed in model.safetensors.index.json") != std::string::npos);

    d.shard("s1.safetensors", {"a", "b"});
    d.index(kIndex);
    e = open_error(d.p);
    CHECK(e.find("tensor 'b' is in two shards") != std::string::npos);

    d.shard("s1.safetensors", {"a"});
    d.index(
        R"({"metadata": {"total_size": 50}, "weight_map": {"a": "s1.safetensors", "b": "s2.safetensors"}})");
    CHECK(open_error(d.p).find("'metadata.total_size': found 50 (expected 48") !=
          std::string::npos);

    d.index(R"({"weight_map": {"a": "../s1.safetensors"}})");
    CHECK(open_error(d.p).find("not a plain file name") != std::string::npos);
    d.index(R"({"weight_map": {"a": "s1\u0000.safetensors"}})");
    CHECK(open_error(d.p).find("not a plain file name") != std::string::npos);
    // Found by fuzz_index: a name past NAME_MAX made the file system lookup throw (exit 3).
    d.index(R"({"weight_map": {"a": ")" + std::string(256, 'x') + R"("}})");
    CHECK(open_error(d.p).find("shard name of 256 bytes (expected a file name of at most 255)") !=
          std::string::npos);
    d.index(R"({"weight_map": {"a": ")" + std::string(255, 'x') + R"("}})");
    CHECK(open_error(d.p).find("shard '" + std::string(255, 'x') + "' not found") !=
          std::string::npos);
    d.index(R"({"weight_map": [1]})");
    CHECK(open_error(d.p).find("key 'weight_map'") != std::string::npos);
    d.index("{not json");
    CHECK(open_error(d.p).find("model.safetensors.index.json: not valid JSON") !=
          std::string::npos);
  }

  TEST_CASE("config.json and weights must exist") {
    Dir d;
    CHECK(open_error(d.p).find(
              "no weights (expected model.safetensors or model.safetensors.index.json)") !=
          std::string::npos);
    std::ofstream(d.p / "config.json") << "{oops";
    CHECK(open_error(d.p).find("config.json: not valid JSON") != std::string::npos);
    fs::remove(d.p / "config.json");
    CHECK(open_error(d.p).find("config.json: missing") != std::string::npos);
    CHECK(open_error(d.p / "nope").find("not a checkpoint directory") != std::string::npos);
  }

  TEST_CASE("staged directories appear only on commit - copies and patches are exact") {
    Dir src;
    src.shard("model.safetensors", {"a", "b"});
    const fs::path target = src.p.string() + "-out";
    fs::remove_all(target);
    {
      StagedDir staged(target, false);
      copy_tree(src.p, staged.path(), [](const fs::path&) { return false; });
      CHECK(!fs::exists(target));
    }  // destroyed without commit: nothing left
    CHECK(!fs::exists(target));
    for (const auto& e : fs::directory_iterator(target.parent_path())) {
      CHECK(e.path().filename().string().find(target.filename().string() + ".moe-recal-tmp") ==
            std::string::npos);
    }
    {
      StagedDir staged(target, false);
      copy_tree(src.p, staged.path(), [](const fs::path& rel) { return rel == "config.json"; });
      const std::byte patch[2] = {std::byte{0xab}, std::byte{0xcd}};
      patch_file(staged.path() / "model.safetensors", 100, patch);
      staged.commit();
    }
    CHECK(!fs::exists(target / "config.json"));
    std::ifstream a(src.p / "model.safetensors", std::ios::binary),
        b(target / "model.safetensors", std::ios::binary);
    const std::string sa((std::istreambuf_iterator<char>(a)), {}),
        sb((std::istreambuf_iterator<char>(b)), {});
    REQUIRE(sa.size() == sb.size());
    for (std::size_t i = 0; i < sa.size(); ++i) {
      if (i == 100 || i == 101) continue;
      CHECK(sa[i] == sb[i]);
    }
    CHECK(static_cast<unsigned char>(sb[100]) == 0xab);
    CHECK_THROWS_WITH_AS(StagedDir(target, false), doctest::Contains("--force"), UsageError);
    fs::remove_all(target);
  }
}
