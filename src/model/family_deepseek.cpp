// DeepSeek-V3 (also Kimi K2) and DeepSeek-V2 / V2-Lite (ARCHITECTURES.md §6, §13): MLA attention,
// dense layers below first_k_dense_replace, ungated shared experts; V3 routes by sigmoid scores
// with a selection bias and group-limited top-k (group score = sum of the top two), V2 by softmax,
// greedy or group-limited (group score = max); both scale the weights by routed_scaling_factor.
#include <cmath>

#include "core/error.hpp"
#include "model/deepseek_config.hpp"
#include "model/family.hpp"

namespace moerecal::model {
namespace {

void read_mla(const ConfigReader& cfg, ModelSpec& s) {
  AttentionSpec& a = s.attn;
  a.kind = AttentionKind::kMla;
  a.mla.q_lora_rank = cfg.int_or({"q_lora_rank"}, 0);  // null: q_proj
  a.mla.kv_lora_rank = cfg.require_int({"kv_lora_rank"});
  a.mla.nope_dim = cfg.require_int({"qk_nope_head_dim"});
  a.mla.rope_dim = cfg.require_int({"qk_rope_head_dim"});
  a.mla.v_dim = cfg.require_int({"v_head_dim"});
  a.n_kv_heads = a.n_heads;
  a.head_dim = a.mla.qk_dim();
  a.qkv_bias = a.o_bias = cfg.bool_or("attention_bias", false);
  a.rope.dim = a.mla.rope_dim;
  a.rope.layout = RopeLayout::kInterleaved;
}

void read_v3(const ConfigReader& cfg, ModelSpec& s) {
  read_deepseek_moe(cfg, s, 3);
  read_mla(cfg, s);
  if (!cfg.bool_or("rope_interleave", true)) s.attn.rope.layout = RopeLayout::kHalf;
  read_v3_router(cfg, s, 8, 4, 2.5);
  const YarnSpec& y = s.attn.rope.y;
  if (s.attn.rope.yarn && y.mscale_all_dim != 0 && y.factor > 1) {
    const double m = 0.1 * y.mscale_all_dim * std::log(y.factor) + 1.0;
    s.attn.softmax_mscale2 = m * m;  // qk_head_dim^-0.5 * mscale^2 (transformers' V3)
  }
}

// V2: softmax scores, never renormalised, no selection bias; transformers' V2 attention applies no
// mscale^2 to the softmax scale (DeepSeek's own code does; tools/ref_deepseek.py notes it).
void read_v2(const ConfigReader& cfg, ModelSpec& s) {
  read_deepseek_moe(cfg, s, 0);
  read_mla(cfg, s);
  RoutingRule& r = s.routing;
  r.score = ScoreFn::kSoftmax;
  r.scaling = cfg.number_or("routed_scaling_factor", 1.0);
  const std::string method = cfg.string_or("topk_method", "greedy");
  if (method == "group_limited_greedy") {
    r.group_score = GroupScore::kMax;
    read_groups(cfg, s, 1, 1);
  } else if (method != "greedy") {
    throw FormatError(std::string(cfg.label()) + ": key 'topk_method': '" + method +
                      "' is not supported for deepseek_v2 (expected greedy or " +
                      "group_limited_greedy)");
  }
}

LayerTensors deepseek_layer(const ModelSpec& s, int layer) {
  LayerTensors t = naming::mla_layer(s, layer);
  naming::deepseek_ffn(s, layer, t);
  return t;
}

}  // namespace

extern const Family kDeepseekV3{{"deepseek_v3", "kimi_k2"}, read_v3, deepseek_layer};
extern const Family kDeepseekV2{{"deepseek_v2"}, read_v2, deepseek_layer};

}  // namespace moerecal::model
