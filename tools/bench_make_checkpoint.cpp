// Writes a large random OLMoE-shaped checkpoint for benchmarks (not committed):
//   bench_make_checkpoint OUT_DIR [--layers N] [--hidden D] [--experts E] [--width M]
//                                 [--top-k K] [--vocab V] [--shard-mib S]
// bf16 weights, one shard per layer group of about S MiB, with a model.safetensors.index.json.
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/dtype.hpp"
#include "io/safetensors.hpp"

using namespace moerecal;
namespace fs = std::filesystem;

namespace {

struct Shape {
  int layers = 8, hidden = 1024, experts = 64, width = 512, top_k = 8, vocab = 4096;
  int shard_mib = 1024;
};

struct Pending {
  std::string name;
  std::vector<std::int64_t> shape;
  std::vector<std::byte> data;
};

std::vector<std::byte> random_bf16(std::size_t n, std::mt19937& g, float scale) {
  std::vector<std::byte> out(n * 2);
  std::uniform_int_distribution<std::uint32_t> u;
  for (std::size_t i = 0; i < n; ++i) {
    // cheap approximately-normal value: sum of 4 uniforms, centred
    float s = 0;
    for (int k = 0; k < 2; ++k) {
      const std::uint32_t r = u(g);
      s += (r & 0xffff) / 65536.0f + (r >> 16) / 65536.0f;
    }
    const std::uint16_t h = f32_to_bf16((s - 2.0f) * scale * 1.7f);
    std::memcpy(out.data() + 2 * i, &h, 2);
  }
  return out;
}

class ShardWriter {
 public:
  ShardWriter(fs::path dir, std::size_t limit) : dir_(std::move(dir)), limit_(limit) {}
  void add(std::string name, std::vector<std::int64_t> shape, std::vector<std::byte> data) {
    if (bytes_ + data.size() > limit_ && !pending_.empty()) flush();
    bytes_ += data.size();
    pending_.push_back({std::move(name), std::move(shape), std::move(data)});
  }
  nlohmann::json finish(std::uint64_t* total) {
    flush();
    *total = total_;
    nlohmann::json map;
    const int n = static_cast<int>(files_.size());
    for (int i = 0; i < n; ++i) {
      char name[64];
      std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", i + 1, n);
      fs::rename(dir_ / files_[i], dir_ / name);
      for (const auto& t : names_[i]) map[t] = name;
    }
    return map;
  }

 private:
  void flush() {
    if (pending_.empty()) return;
    std::vector<io::TensorToWrite> ts;
    std::vector<std::string> names;
    for (const auto& p : pending_) {
      ts.push_back({p.name, DType::kBF16, p.shape, p.data});
      names.push_back(p.name);
      total_ += p.data.size();
    }
    const std::string file = "part-" + std::to_string(files_.size()) + ".safetensors";
    io::write_safetensors(dir_ / file, ts, {{"format", "pt"}});
    files_.push_back(file);
    names_.push_back(names);
    pending_.clear();
    bytes_ = 0;
  }
  fs::path dir_;
  std::size_t limit_;
  std::size_t bytes_ = 0;
  std::uint64_t total_ = 0;
  std::vector<Pending> pending_;
  std::vector<std::string> files_;
  std::vector<std::vector<std::string>> names_;
};

void write_config(const fs::path& dir, const Shape& s) {
  const nlohmann::json c = {
      {"model_type", "olmoe"},          {"architectures", {"OlmoeForCausalLM"}},
      {"hidden_size", s.hidden},        {"intermediate_size", s.width},
      {"num_hidden_layers", s.layers},  {"num_attention_heads", 16},
      {"num_key_value_heads", 16},      {"num_experts", s.experts},
      {"num_experts_per_tok", s.top_k}, {"vocab_size", s.vocab},
      {"norm_topk_prob", false},        {"rms_norm_eps", 1e-5},
      {"rope_theta", 10000.0},          {"tie_word_embeddings", false},
      {"torch_dtype", "bfloat16"}};
  std::ofstream(dir / "config.json") << c.dump(2) << "\n";
}

void add_layer(ShardWriter& w, const Shape& s, int i, std::mt19937& g) {
  const std::int64_t d = s.hidden, m = s.width;
  const std::string p = "model.layers." + std::to_string(i) + ".";
  for (const char* n : {"input_layernorm", "post_attention_layernorm"}) {
    w.add(p + n + ".weight", {d}, random_bf16(d, g, 0.02f));
  }
  for (const char* n : {"q_proj", "k_proj", "v_proj", "o_proj"}) {
    w.add(p + "self_attn." + n + ".weight", {d, d}, random_bf16(d * d, g, 0.02f));
  }
  w.add(p + "self_attn.q_norm.weight", {d}, random_bf16(d, g, 0.02f));
  w.add(p + "self_attn.k_norm.weight", {d}, random_bf16(d, g, 0.02f));
  w.add(p + "mlp.gate.weight", {s.experts, d}, random_bf16(s.experts * d, g, 0.02f));
  for (int e = 0; e < s.experts; ++e) {
    const std::string q = p + "mlp.experts." + std::to_string(e) + ".";
    w.add(q + "gate_proj.weight", {m, d}, random_bf16(m * d, g, 0.02f));
    w.add(q + "up_proj.weight", {m, d}, random_bf16(m * d, g, 0.02f));
    w.add(q + "down_proj.weight", {d, m}, random_bf16(m * d, g, 0.02f));
  }
}

int arg_int(int argc, char** argv, const char* name, int fallback) {
  for (int i = 2; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return std::stoi(argv[i + 1]);
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: %s OUT_DIR [--layers N] [--hidden D] [--experts E] [--width M] "
                 "[--top-k K] [--vocab V] [--shard-mib S]\n",
                 argv[0]);
    return 2;
  }
  Shape s;
  s.layers = arg_int(argc, argv, "--layers", s.layers);
  s.hidden = arg_int(argc, argv, "--hidden", s.hidden);
  s.experts = arg_int(argc, argv, "--experts", s.experts);
  s.width = arg_int(argc, argv, "--width", s.width);
  s.top_k = arg_int(argc, argv, "--top-k", s.top_k);
  s.vocab = arg_int(argc, argv, "--vocab", s.vocab);
  s.shard_mib = arg_int(argc, argv, "--shard-mib", s.shard_mib);
  const fs::path dir = argv[1];
  fs::create_directories(dir);
  write_config(dir, s);
  std::mt19937 g(42);
  ShardWriter w(dir, std::size_t(s.shard_mib) << 20);
  w.add("model.embed_tokens.weight", {s.vocab, s.hidden},
        random_bf16(std::size_t(s.vocab) * s.hidden, g, 0.02f));
  for (int i = 0; i < s.layers; ++i) add_layer(w, s, i, g);
  w.add("model.norm.weight", {s.hidden}, random_bf16(s.hidden, g, 0.02f));
  w.add("lm_head.weight", {s.vocab, s.hidden},
        random_bf16(std::size_t(s.vocab) * s.hidden, g, 0.02f));
  std::uint64_t total = 0;
  const nlohmann::json map = w.finish(&total);
  const nlohmann::json index = {{"metadata", {{"total_size", total}}}, {"weight_map", map}};
  std::ofstream(dir / "model.safetensors.index.json") << index.dump(2) << "\n";
  std::printf("%s: %d layers, %.2f GiB payload\n", dir.c_str(), s.layers, total / 1073741824.0);
  return 0;
}
