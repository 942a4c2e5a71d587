// DeepSeek-V3-shaped FP8 and gpt-oss-120b-shaped MXFP4 benchmark checkpoints: the tensor names,
// storage and config keys of the released checkpoints (ARCHITECTURES.md; the same layout as
// tools/gen_fixtures_deepseek.py and tools/gen_fixtures_gpt_oss.py), at reduced widths.
#pragma once

#include <string>
#include <vector>

#include "bench_ckpt/spectrum.hpp"
#include "bench_ckpt/writer.hpp"

namespace bench {

struct Shape {
  int layers = 8, hidden = 1024, experts = 64, width = 512, top_k = 8, vocab = 4096;
  int shard_mib = 1024;
  // DeepSeek-V3: dense layers first, dense FFN width, shared experts, MLA ranks and head dims.
  int first_dense = 1, dense = 4096, shared = 1, n_group = 8, topk_group = 4;
  int heads = 16, kv_heads = 4, head_dim = 64, q_lora = 512, kv_lora = 256, nope = 64, rope = 32,
      v = 64;
};

inline std::vector<float> norm_weight(int n, std::mt19937& g) {
  std::vector<float> v = cheap_normal(n, g, 0.05f);
  for (auto& x : v) x += 1.0f;
  return v;
}

// ---------------------------------------------------------------- DeepSeek-V3 (FP8)

inline void fp8(ShardWriter& w, const std::string& name, int rows, int cols,
                const std::vector<float>& v) {
  auto [codes, scale] = to_fp8_blocks(v, rows, cols);
  w.add(name, DType::kF8E4M3, {rows, cols}, std::move(codes));
  w.add(name + "_scale_inv", DType::kF32, {(rows + 127) / 128, (cols + 127) / 128},
        std::move(scale));
}

inline void fp8_gauss(ShardWriter& w, const std::string& name, int rows, int cols,
                      std::mt19937& g) {
  fp8(w, name, rows, cols, cheap_normal(std::size_t(rows) * cols, g, 0.02f));
}

inline void deepseek_attention(ShardWriter& w, const Shape& s, const std::string& a,
                               std::mt19937& g) {
  const int d = s.hidden, qk = s.nope + s.rope;
  fp8_gauss(w, a + "q_a_proj.weight", s.q_lora, d, g);
  w.bf16(a + "q_a_layernorm.weight", {s.q_lora}, norm_weight(s.q_lora, g));
  fp8_gauss(w, a + "q_b_proj.weight", s.heads * qk, s.q_lora, g);
  fp8_gauss(w, a + "kv_a_proj_with_mqa.weight", s.kv_lora + s.rope, d, g);
  w.bf16(a + "kv_a_layernorm.weight", {s.kv_lora}, norm_weight(s.kv_lora, g));
  fp8_gauss(w, a + "kv_b_proj.weight", s.heads * (s.nope + s.v), s.kv_lora, g);
  fp8_gauss(w, a + "o_proj.weight", d, s.heads * s.v, g);
}

// gate/up [m, d] sharing their column draw (right singular vectors), down [d, m].
inline void fp8_ffn(ShardWriter& w, const std::string& q, int m, int d, MatrixSource& src) {
  const ColumnDraw c = draw_columns(d, src.rng());
  fp8(w, q + "gate_proj.weight", m, d, src.matrix(m, d, 0.02f, &c));
  fp8(w, q + "up_proj.weight", m, d, src.matrix(m, d, 0.02f, &c));
  fp8(w, q + "down_proj.weight", d, m, src.matrix(d, m, 0.02f, nullptr));
}

inline void deepseek_layer(ShardWriter& w, const Shape& s, int i, MatrixSource& src) {
  std::mt19937& g = src.rng();
  const int d = s.hidden;
  const std::string p = "model.layers." + std::to_string(i) + ".";
  w.bf16(p + "input_layernorm.weight", {d}, norm_weight(d, g));
  deepseek_attention(w, s, p + "self_attn.", g);
  w.bf16(p + "post_attention_layernorm.weight", {d}, norm_weight(d, g));
  if (i < s.first_dense) {
    MatrixSource dense(Spectrum::kGaussian, g());
    fp8_ffn(w, p + "mlp.", s.dense, d, dense);
    return;
  }
  w.bf16(p + "mlp.gate.weight", {s.experts, d}, cheap_normal(std::size_t(s.experts) * d, g, 0.02f));
  w.add(p + "mlp.gate.e_score_correction_bias", DType::kF32, {s.experts},
        to_f32(cheap_normal(s.experts, g, 0.01f)));
  for (int e = 0; e < s.experts; ++e)
    fp8_ffn(w, p + "mlp.experts." + std::to_string(e) + ".", s.width, d, src);
  MatrixSource shared(Spectrum::kGaussian, g());
  fp8_ffn(w, p + "mlp.shared_experts.", s.width * s.shared, d, shared);
}

// The keys that do not depend on the shape: DeepSeek-V3's values.
inline nlohmann::json deepseek_fixed_config() {
  return nlohmann::json::parse(R"({
    "architectures": ["DeepseekV3ForCausalLM"], "model_type": "deepseek_v3",
    "max_position_embeddings": 163840, "routed_scaling_factor": 2.5, "rms_norm_eps": 1e-6,
    "rope_theta": 10000.0,
    "rope_scaling": {"type": "yarn", "factor": 40, "original_max_position_embeddings": 4096,
                     "beta_fast": 32, "beta_slow": 1, "mscale": 1.0, "mscale_all_dim": 1.0},
    "hidden_act": "silu", "tie_word_embeddings": false, "attention_bias": false,
    "attention_dropout": 0.0, "moe_layer_freq": 1, "topk_method": "noaux_tc",
    "scoring_func": "sigmoid", "norm_topk_prob": true, "num_nextn_predict_layers": 0,
    "bos_token_id": 0, "eos_token_id": 1, "torch_dtype": "bfloat16",
    "quantization_config": {"quant_method": "fp8", "fmt": "e4m3",
                            "activation_scheme": "dynamic", "weight_block_size": [128, 128]}})");
}

inline nlohmann::json deepseek_config(const Shape& s) {
  nlohmann::json c = deepseek_fixed_config();
  c.update({{"hidden_size", s.hidden},
            {"num_hidden_layers", s.layers},
            {"num_attention_heads", s.heads},
            {"num_key_value_heads", s.heads},
            {"vocab_size", s.vocab},
            {"intermediate_size", s.dense},
            {"moe_intermediate_size", s.width},
            {"n_routed_experts", s.experts},
            {"n_shared_experts", s.shared},
            {"num_experts_per_tok", s.top_k},
            {"first_k_dense_replace", s.first_dense},
            {"n_group", s.n_group},
            {"topk_group", s.topk_group},
            {"q_lora_rank", s.q_lora},
            {"kv_lora_rank", s.kv_lora},
            {"qk_nope_head_dim", s.nope},
            {"qk_rope_head_dim", s.rope},
            {"v_head_dim", s.v}});
  return c;
}

// ---------------------------------------------------------------- gpt-oss (MXFP4)

// Fused experts [E, rows, cols] (each expert's rows x cols matrix) as *_blocks and *_scales.
inline void mxfp4_fused(ShardWriter& w, const std::string& name, int E, int rows, int cols,
                        const std::vector<std::vector<float>>& mats) {
  const std::size_t nb = cols / 32;
  Bytes blocks(std::size_t(E) * rows * nb * 16), scales(std::size_t(E) * rows * nb);
  for (int e = 0; e < E; ++e)
    for (int r = 0; r < rows; ++r) {
      const std::size_t row = std::size_t(e) * rows + r;
      to_mxfp4_row(mats[e].data() + std::size_t(r) * cols, cols, blocks.data() + row * nb * 16,
                   scales.data() + row * nb);
    }
  const std::int64_t b = static_cast<std::int64_t>(nb);
  w.add(name + "_blocks", DType::kU8, {E, rows, b, 16}, std::move(blocks));
  w.add(name + "_scales", DType::kU8, {E, rows, b}, std::move(scales));
}

inline void gpt_oss_experts(ShardWriter& w, const Shape& s, const std::string& m,
                            MatrixSource& src) {
  const int d = s.hidden, I = s.width, E = s.experts;
  std::vector<std::vector<float>> gate_up(E), down(E);
  for (int e = 0; e < E; ++e) {
    const ColumnDraw c = draw_columns(d, src.rng());
    const std::vector<float> gate = src.matrix(I, d, 0.02f, &c), up = src.matrix(I, d, 0.02f, &c);
    gate_up[e].resize(std::size_t(2) * I * d);
    for (int j = 0; j < I; ++j) {  // interleaved: gate channel j -> row 2j, up -> row 2j + 1
      std::copy_n(gate.data() + std::size_t(j) * d, d, gate_up[e].data() + std::size_t(2 * j) * d);
      std::copy_n(up.data() + std::size_t(j) * d, d,
                  gate_up[e].data() + std::size_t(2 * j + 1) * d);
    }
    down[e] = src.matrix(d, I, 0.02f, nullptr);
  }
  mxfp4_fused(w, m + "gate_up_proj", E, 2 * I, d, gate_up);
  w.bf16(m + "gate_up_proj_bias", {E, 2 * I},
         cheap_normal(std::size_t(E) * 2 * I, src.rng(), 0.02f));
  mxfp4_fused(w, m + "down_proj", E, d, I, down);
  w.bf16(m + "down_proj_bias", {E, d}, cheap_normal(std::size_t(E) * d, src.rng(), 0.02f));
}

inline void gpt_oss_layer(ShardWriter& w, const Shape& s, int i, MatrixSource& src) {
  std::mt19937& g = src.rng();
  const int d = s.hidden, q = s.heads * s.head_dim, kv = s.kv_heads * s.head_dim;
  const std::string p = "model.layers." + std::to_string(i) + ".", a = p + "self_attn.";
  w.bf16(p + "input_layernorm.weight", {d}, norm_weight(d, g));
  const int rows[4] = {q, kv, kv, d}, cols[4] = {d, d, d, q};
  const char* proj[4] = {"q_proj", "k_proj", "v_proj", "o_proj"};
  for (int k = 0; k < 4; ++k) {
    const std::string n = a + proj[k];
    w.bf16(n + ".weight", {rows[k], cols[k]},
           cheap_normal(std::size_t(rows[k]) * cols[k], g, 0.02f));
    w.bf16(n + ".bias", {rows[k]}, cheap_normal(rows[k], g, 0.02f));
  }
  w.bf16(a + "sinks", {s.heads}, cheap_normal(s.heads, g, 1.0f));
  w.bf16(p + "post_attention_layernorm.weight", {d}, norm_weight(d, g));
  w.bf16(p + "mlp.router.weight", {s.experts, d},
         cheap_normal(std::size_t(s.experts) * d, g, 0.02f));
  w.bf16(p + "mlp.router.bias", {s.experts}, cheap_normal(s.experts, g, 0.1f));
  gpt_oss_experts(w, s, p + "mlp.experts.", src);
}

// The keys that do not depend on the shape: the released gpt-oss-120b config.json's values.
inline nlohmann::json gpt_oss_fixed_config() {
  return nlohmann::json::parse(R"({
    "architectures": ["GptOssForCausalLM"], "model_type": "gpt_oss", "attention_bias": true,
    "attention_dropout": 0.0, "eos_token_id": 2, "hidden_act": "silu",
    "initializer_range": 0.02, "max_position_embeddings": 131072,
    "output_router_logits": false, "pad_token_id": 0, "rms_norm_eps": 1e-5,
    "router_aux_loss_coef": 0.9, "sliding_window": 128, "swiglu_limit": 7.0,
    "tie_word_embeddings": false, "use_cache": true, "initial_context_length": 4096,
    "rope_theta": 150000.0, "torch_dtype": "bfloat16",
    "rope_scaling": {"beta_fast": 32.0, "beta_slow": 1.0, "factor": 32.0,
                     "original_max_position_embeddings": 4096, "rope_type": "yarn",
                     "truncate": false},
    "quantization_config": {"quant_method": "mxfp4", "modules_to_not_convert": [
      "model.layers.*.self_attn", "model.layers.*.mlp.router", "model.embed_tokens", "lm_head"]}})");
}

inline nlohmann::json gpt_oss_config(const Shape& s) {
  nlohmann::json types = nlohmann::json::array();
  for (int i = 0; i < s.layers; ++i)
    types.push_back(i % 2 ? "full_attention" : "sliding_attention");
  nlohmann::json c = gpt_oss_fixed_config();
  c.update({{"head_dim", s.head_dim},
            {"hidden_size", s.hidden},
            {"intermediate_size", s.width},
            {"layer_types", types},
            {"num_attention_heads", s.heads},
            {"num_experts_per_tok", s.top_k},
            {"experts_per_token", s.top_k},
            {"num_hidden_layers", s.layers},
            {"num_key_value_heads", s.kv_heads},
            {"num_local_experts", s.experts},
            {"vocab_size", s.vocab}});
  return c;
}

}  // namespace bench
