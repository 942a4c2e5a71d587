// config.json -> ModelSpec, family tables and expected tensor names/shapes.
#include <doctest/doctest.h>

#include <algorithm>

#include "core/error.hpp"
#include "model/family.hpp"
#include "model/model.hpp"
#include "model/tensors.hpp"

using nlohmann::json;
using namespace moerecal;
using namespace moerecal::model;

namespace {

json base_config(const std::string& type) {
  return {{"model_type", type},       {"hidden_size", 64},        {"num_hidden_layers", 3},
          {"num_attention_heads", 4}, {"num_key_value_heads", 2}, {"vocab_size", 256},
          {"num_experts_per_tok", 2}, {"intermediate_size", 96},  {"moe_intermediate_size", 32},
          {"num_experts", 8},         {"num_local_experts", 8}};
}

std::vector<TensorRef> expected_tensors(const ModelSpec& s) {
  std::vector<TensorRef> out;
  for_each_tensor(s, [&](const TensorRef& t) { out.push_back(t); });
  return out;
}

bool has(const std::vector<TensorRef>& ts, const std::string& name,
         std::vector<std::int64_t> shape) {
  return std::any_of(ts.begin(), ts.end(),
                     [&](const TensorRef& t) { return t.name == name && t.shape == shape; });
}

const Family* family(const char* model_type) {
  for (const Family* f : families()) {
    for (auto t : f->model_types) {
      if (t == model_type) return f;
    }
  }
  return nullptr;
}

}  // namespace

TEST_SUITE("model") {
  TEST_CASE("mixtral: every layer MoE / w1/w3/w2 names / always renormalised") {
    ModelSpec s = parse_config(base_config("mixtral"), "config.json");
    CHECK(s.family == family("mixtral"));
    CHECK(s.moe_layers == std::vector<int>{0, 1, 2});
    CHECK(s.expert_width == 96);  // mixtral's per-expert width is intermediate_size
    CHECK(s.routing.renormalize);
    CHECK(layer_tensors(s, 1).moe.router.name == "model.layers.1.block_sparse_moe.gate.weight");
    CHECK(layer_tensors(s, 1).moe.experts[7].gate.tensor.name ==
          "model.layers.1.block_sparse_moe.experts.7.w1.weight");
    CHECK(layer_tensors(s, 1).moe.experts[7].up.tensor.name ==
          "model.layers.1.block_sparse_moe.experts.7.w3.weight");
    CHECK(layer_tensors(s, 1).moe.experts[7].down.tensor.name ==
          "model.layers.1.block_sparse_moe.experts.7.w2.weight");
    auto ts = expected_tensors(s);
    CHECK(has(ts, "model.layers.0.block_sparse_moe.experts.0.w2.weight", {64, 96}));
    CHECK(has(ts, "model.layers.2.self_attn.k_proj.weight", {32, 64}));
    CHECK(has(ts, "lm_head.weight", {256, 64}));
    CHECK(ts.size() == 1 + 3 * (2 + 4 + 1 + 8 * 3) + 2);
  }

  TEST_CASE("qwen2_moe: mlp_only_layers / shared expert with gate / qkv bias by default") {
    json c = base_config("qwen2_moe");
    c["mlp_only_layers"] = {1};
    c["shared_expert_intermediate_size"] = 48;
    ModelSpec s = parse_config(c, "config.json");
    CHECK(s.moe_layers == std::vector<int>{0, 2});
    CHECK(s.dense_width == 96);
    CHECK(s.expert_width == 32);
    CHECK(!s.routing.renormalize);
    auto ts = expected_tensors(s);
    CHECK(has(ts, "model.layers.1.mlp.gate_proj.weight", {96, 64}));
    CHECK(has(ts, "model.layers.0.mlp.shared_expert.down_proj.weight", {64, 48}));
    CHECK(has(ts, "model.layers.0.mlp.shared_expert_gate.weight", {1, 64}));
    CHECK(has(ts, "model.layers.0.self_attn.q_proj.bias", {64}));
    CHECK(!has(ts, "model.layers.0.self_attn.o_proj.bias", {64}));
  }

  TEST_CASE("qwen2_moe: decoder_sparse_step selects layers (i+1) % step == 0") {
    json c = base_config("qwen2_moe");
    c["num_hidden_layers"] = 6;
    c["decoder_sparse_step"] = 2;
    CHECK(parse_config(c, "config.json").moe_layers == std::vector<int>{1, 3, 5});
  }

  TEST_CASE("qwen3_moe: explicit head_dim and per-head qk-norm") {
    json c = base_config("qwen3_moe");
    c["head_dim"] = 32;
    c["norm_topk_prob"] = true;
    ModelSpec s = parse_config(c, "config.json");
    CHECK(s.attn.head_dim == 32);
    CHECK(s.routing.renormalize);
    auto ts = expected_tensors(s);
    CHECK(has(ts, "model.layers.0.self_attn.q_proj.weight", {128, 64}));
    CHECK(has(ts, "model.layers.0.self_attn.o_proj.weight", {64, 128}));
    CHECK(has(ts, "model.layers.0.self_attn.q_norm.weight", {32}));
    CHECK(has(ts, "model.layers.0.self_attn.k_norm.weight", {32}));
  }

  TEST_CASE("olmoe: qk-norm over the whole projection") {
    ModelSpec s = parse_config(base_config("olmoe"), "config.json");
    auto ts = expected_tensors(s);
    CHECK(has(ts, "model.layers.0.self_attn.q_norm.weight", {64}));
    CHECK(has(ts, "model.layers.0.self_attn.k_norm.weight", {32}));
    CHECK(has(ts, "model.layers.0.mlp.experts.3.up_proj.weight", {96, 64}));
  }

  TEST_CASE("unsupported model_type lists the supported ones") {
    json c = base_config("llama4_moe");
    try {
      parse_config(c, "dir/config.json");
      FAIL("expected FormatError");
    } catch (const FormatError& e) {
      const std::string m = e.what();
      CHECK(m.find("dir/config.json") != std::string::npos);
      CHECK(m.find("llama4_moe") != std::string::npos);
      CHECK(m.find("mixtral, olmoe, qwen2_moe, qwen3_moe") != std::string::npos);
    }
  }

  TEST_CASE("missing or mistyped keys name the key / expected and found") {
    json c = base_config("olmoe");
    c.erase("num_experts_per_tok");
    CHECK_THROWS_WITH_AS(parse_config(c, "config.json"), doctest::Contains("num_experts_per_tok"),
                         FormatError);
    c = base_config("olmoe");
    c["hidden_size"] = "64";
    CHECK_THROWS_WITH_AS(parse_config(c, "config.json"), doctest::Contains("hidden_size"),
                         FormatError);
    c = base_config("olmoe");
    c["num_experts_per_tok"] = 9;
    CHECK_THROWS_WITH_AS(parse_config(c, "config.json"), doctest::Contains("found 9"), FormatError);
    CHECK_THROWS_AS(parse_config(json::array(), "config.json"), FormatError);
  }

  TEST_CASE("layer and expert counts past the limits are refused before any table is built") {
    // Found by fuzz_config: 333,338 experts took seconds per config (a table entry per expert);
    // 2^30 would exhaust memory.
    json c = base_config("olmoe");
    c["num_hidden_layers"] = 4097;
    CHECK_THROWS_WITH_AS(parse_config(c, "config.json"),
                         "config.json: key 'num_hidden_layers': expected at most 4096, found 4097",
                         FormatError);
    c = base_config("olmoe");
    c["num_experts"] = 65537;
    CHECK_THROWS_WITH_AS(parse_config(c, "config.json"),
                         "config.json: number of experts: expected at most 65536, found 65537",
                         FormatError);
    c["num_experts"] = 65536;
    c["num_hidden_layers"] = 17;  // 1,114,112 experts in all
    CHECK_THROWS_WITH_AS(parse_config(c, "config.json"),
                         doctest::Contains("expected at most 1048576"), FormatError);
    c["num_hidden_layers"] = 16;
    CHECK(parse_config(c, "config.json").n_experts() == 65536);
    c = base_config("olmoe");
    c["num_experts"] = 333338;
    CHECK_THROWS_WITH_AS(parse_config(c, "config.json"), doctest::Contains("at most 65536"),
                         FormatError);
  }
}

TEST_SUITE("model") {
  TEST_CASE("rope_scaling: yarn is read, other types are refused naming the type") {
    json c = base_config("mixtral");
    c["rope_scaling"] = {
        {"type", "yarn"}, {"factor", 4.0}, {"original_max_position_embeddings", 256}};
    const ModelSpec s = parse_config(c, "config.json");
    CHECK(s.attn.rope.yarn);
    CHECK(s.attn.rope.y.factor == 4.0);
    CHECK(s.attn.rope.y.beta_fast == 32);
    for (const char* type : {"linear", "dynamic", "llama3", "longrope"}) {
      c["rope_scaling"] = {{"rope_type", type}, {"factor", 2.0}};
      CHECK_THROWS_WITH_AS(parse_config(c, "config.json"), doctest::Contains(type), FormatError);
    }
    c.erase("rope_scaling");
    c["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 5e5}};
    CHECK(parse_config(c, "config.json").attn.rope.theta == 5e5);
  }

  TEST_CASE("deepseek_v3 / kimi_k2 / deepseek_v2 / glm4_moe: routing rule and layers") {
    json c = base_config("deepseek_v3");
    c.update({{"n_routed_experts", 8},
              {"kv_lora_rank", 16},
              {"qk_nope_head_dim", 16},
              {"qk_rope_head_dim", 8},
              {"v_head_dim", 16},
              {"q_lora_rank", nullptr},
              {"n_group", 4},
              {"topk_group", 2},
              {"first_k_dense_replace", 1},
              {"num_nextn_predict_layers", 1}});
    ModelSpec s = parse_config(c, "config.json");
    CHECK(s.routing.score == ScoreFn::kSigmoid);
    CHECK(s.routing.selection_bias);
    CHECK(s.routing.group_score == GroupScore::kTopTwoSum);
    CHECK(s.routing.scaling == 2.5);
    CHECK(s.moe_layers == std::vector<int>{1, 2});
    CHECK(s.extra_layers == 1);
    CHECK(s.attn.kind == AttentionKind::kMla);
    const LayerTensors t = layer_tensors(s, 1);
    CHECK(t.moe.selection_bias.name == "model.layers.1.mlp.gate.e_score_correction_bias");
    CHECK(t.attn.q.weight.tensor.name == "model.layers.1.self_attn.q_proj.weight");
    CHECK(t.moe.shared.gate.tensor.shape == Shape{32, 64});
    c["model_type"] = "kimi_k2";
    CHECK(parse_config(c, "config.json").family == family("deepseek_v3"));
    c["n_group"] = 3;
    CHECK_THROWS_WITH_AS(parse_config(c, "config.json"), doctest::Contains("n_group"), FormatError);
    c["n_group"] = 2;
    c["topk_group"] = 3;
    CHECK_THROWS_WITH_AS(parse_config(c, "config.json"), doctest::Contains("topk_group"),
                         FormatError);
    c["model_type"] = "deepseek_v2";
    c["topk_method"] = "group_limited_greedy";
    c["topk_group"] = 1;
    s = parse_config(c, "config.json");
    CHECK(s.routing.score == ScoreFn::kSoftmax);
    CHECK(s.routing.group_score == GroupScore::kMax);
    CHECK(!s.routing.renormalize);
    CHECK(layer_tensors(s, 1).moe.selection_bias.empty());
  }

  TEST_CASE("nested config values of the wrong type or range are FormatErrors naming the key") {
    // Found by fuzz_config: a partial_rotary_factor of 7.8e7 overflowed the int rotary width
    // (UBSan); a quant_method that is not a string escaped as a JSON type error.
    json c = base_config("glm4_moe");
    c.update({{"n_routed_experts", 8}, {"first_k_dense_replace", 1}, {"head_dim", 32}});
    CHECK(parse_config(c, "config.json").attn.rope.dim == 16);  // default factor 0.5
    c["partial_rotary_factor"] = 77777770.5;
    CHECK_THROWS_WITH_AS(parse_config(c, "config.json"),
                         doctest::Contains("'partial_rotary_factor': expected a number in (0, 1]"),
                         FormatError);
    c["partial_rotary_factor"] = 0.25;
    CHECK(parse_config(c, "config.json").attn.rope.dim == 8);
    c["rope_parameters"] = {{"rope_theta", 10000.0}, {"partial_rotary_factor", "half"}};
    CHECK_THROWS_WITH_AS(
        parse_config(c, "config.json"),
        "config.json: key 'rope_parameters': \"partial_rotary_factor\": expected a number, found "
        "\"half\"",
        FormatError);
    for (const char* type : {"deepseek_v3", "gpt_oss"}) {
      json q = base_config(type);
      q.update({{"n_routed_experts", 8},
                {"kv_lora_rank", 16},
                {"qk_nope_head_dim", 16},
                {"qk_rope_head_dim", 8},
                {"v_head_dim", 16},
                {"num_local_experts", 8}});
      q["quantization_config"] = {{"quant_method", 5}};
      CHECK_THROWS_WITH_AS(parse_config(q, "config.json"),
                           "config.json: key 'quantization_config': \"quant_method\": expected a "
                           "string, found 5",
                           FormatError);
    }
  }
}
