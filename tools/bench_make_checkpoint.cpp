// Writes a large random checkpoint for benchmarks (not committed):
//   bench_make_checkpoint OUT_DIR [--family olmoe|deepseek_v3|gpt_oss]
//       [--spectrum gaussian|powerlaw] [--layers N] [--hidden D] [--experts E] [--width M]
//       [--top-k K] [--vocab V] [--shard-mib S] [--first-dense N] [--dense W] [--heads H]
// olmoe (default): bf16 weights, as before (--spectrum gaussian gives the same bytes as the
// generator always did). deepseek_v3: DeepSeek-V3's tensors and config with F8_E4M3 linear
// weights and 128x128-block F32 weight_scale_inv (MLA attention, e_score_correction_bias, shared
// expert, dense first layers). gpt_oss: gpt-oss-120b's layout with MXFP4 fused experts
// (*_blocks / *_scales, interleaved gate/up), router bias, sinks, alternating sliding window.
// --spectrum applies to the routed experts (tools/bench_ckpt/spectrum.hpp); everything else is
// Gaussian. One shard per about S MiB, with a model.safetensors.index.json.
#include <cstdio>
#include <cstring>
#include <string>

#include "bench_ckpt/families.hpp"

using namespace bench;

namespace {

void olmoe_layer(ShardWriter& w, const Shape& s, int i, MatrixSource& src) {
  std::mt19937& g = src.rng();
  const std::int64_t d = s.hidden, m = s.width;
  auto gauss = [&](std::size_t n) { return cheap_normal(n, g, 0.02f); };
  const std::string p = "model.layers." + std::to_string(i) + ".";
  for (const char* n : {"input_layernorm", "post_attention_layernorm"})
    w.bf16(p + n + ".weight", {d}, gauss(d));
  for (const char* n : {"q_proj", "k_proj", "v_proj", "o_proj"})
    w.bf16(p + "self_attn." + n + ".weight", {d, d}, gauss(d * d));
  w.bf16(p + "self_attn.q_norm.weight", {d}, gauss(d));
  w.bf16(p + "self_attn.k_norm.weight", {d}, gauss(d));
  w.bf16(p + "mlp.gate.weight", {s.experts, d}, gauss(s.experts * d));
  for (int e = 0; e < s.experts; ++e) {
    const std::string q = p + "mlp.experts." + std::to_string(e) + ".";
    const ColumnDraw c = src.spectrum() == Spectrum::kPowerLaw ? draw_columns(d, g) : ColumnDraw{};
    const ColumnDraw* shared = src.spectrum() == Spectrum::kPowerLaw ? &c : nullptr;
    w.bf16(q + "gate_proj.weight", {m, d}, src.matrix(m, d, 0.02f, shared));
    w.bf16(q + "up_proj.weight", {m, d}, src.matrix(m, d, 0.02f, shared));
    w.bf16(q + "down_proj.weight", {d, m}, src.matrix(d, m, 0.02f, nullptr));
  }
}

nlohmann::json olmoe_config(const Shape& s) {
  return {{"model_type", "olmoe"},          {"architectures", {"OlmoeForCausalLM"}},
          {"hidden_size", s.hidden},        {"intermediate_size", s.width},
          {"num_hidden_layers", s.layers},  {"num_attention_heads", 16},
          {"num_key_value_heads", 16},      {"num_experts", s.experts},
          {"num_experts_per_tok", s.top_k}, {"vocab_size", s.vocab},
          {"norm_topk_prob", false},        {"rms_norm_eps", 1e-5},
          {"rope_theta", 10000.0},          {"tie_word_embeddings", false},
          {"torch_dtype", "bfloat16"}};
}

const char* arg(int argc, char** argv, const char* name) {
  for (int i = 2; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  return nullptr;
}

int arg_int(int argc, char** argv, const char* name, int fallback) {
  const char* v = arg(argc, argv, name);
  return v ? std::stoi(v) : fallback;
}

// Defaults per family: reduced widths, >= 64 experts, the released models' other ratios.
Shape shape_for(const std::string& family, int argc, char** argv) {
  Shape s;
  if (family == "deepseek_v3") s = {5, 2048, 64, 512, 8, 4096};
  if (family == "gpt_oss") s = {4, 1024, 128, 1024, 4, 4096};
  if (family == "gpt_oss") s.heads = 16, s.kv_heads = 4, s.head_dim = 64;
  s.layers = arg_int(argc, argv, "--layers", s.layers);
  s.hidden = arg_int(argc, argv, "--hidden", s.hidden);
  s.experts = arg_int(argc, argv, "--experts", s.experts);
  s.width = arg_int(argc, argv, "--width", s.width);
  s.top_k = arg_int(argc, argv, "--top-k", s.top_k);
  s.vocab = arg_int(argc, argv, "--vocab", s.vocab);
  s.shard_mib = arg_int(argc, argv, "--shard-mib", s.shard_mib);
  s.first_dense = arg_int(argc, argv, "--first-dense", s.first_dense);
  s.dense = arg_int(argc, argv, "--dense", s.dense);
  s.heads = arg_int(argc, argv, "--heads", s.heads);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argv[1][0] == '-') {
    std::fprintf(stderr,
                 "usage: %s OUT_DIR [--family olmoe|deepseek_v3|gpt_oss] "
                 "[--spectrum gaussian|powerlaw] [--layers N] [--hidden D] [--experts E] "
                 "[--width M] [--top-k K] [--vocab V] [--shard-mib S] [--first-dense N] "
                 "[--dense W] [--heads H]\n",
                 argv[0]);
    return 2;
  }
  const std::string family = arg(argc, argv, "--family") ? arg(argc, argv, "--family") : "olmoe";
  if (family != "olmoe" && family != "deepseek_v3" && family != "gpt_oss")
    return std::fprintf(stderr, "unknown --family %s\n", family.c_str()), 2;
  const char* spec = arg(argc, argv, "--spectrum");
  const Shape s = shape_for(family, argc, argv);
  const fs::path dir = argv[1];
  fs::create_directories(dir);
  MatrixSource src(parse_spectrum(spec ? spec : "gaussian"), 42);
  std::mt19937& g = src.rng();
  ShardWriter w(dir, std::size_t(s.shard_mib) << 20);
  w.bf16("model.embed_tokens.weight", {s.vocab, s.hidden},
         cheap_normal(std::size_t(s.vocab) * s.hidden, g, 0.02f));
  auto layer = family == "olmoe"         ? olmoe_layer
               : family == "deepseek_v3" ? deepseek_layer
                                         : gpt_oss_layer;
  for (int i = 0; i < s.layers; ++i) layer(w, s, i, src);
  w.bf16("model.norm.weight", {s.hidden},
         family == "olmoe" ? cheap_normal(s.hidden, g, 0.02f) : norm_weight(s.hidden, g));
  w.bf16("lm_head.weight", {s.vocab, s.hidden},
         cheap_normal(std::size_t(s.vocab) * s.hidden, g, 0.02f));
  const std::uint64_t total = w.finish();
  write_json(dir / "config.json", family == "olmoe"         ? olmoe_config(s)
                                  : family == "deepseek_v3" ? deepseek_config(s)
                                                            : gpt_oss_config(s));
  std::printf("%s: %s, %d layers, %.2f GiB payload\n", dir.c_str(), family.c_str(), s.layers,
              total / 1073741824.0);
  return 0;
}
