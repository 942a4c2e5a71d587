#include "model/deepseek_config.hpp"

#include "core/error.hpp"

namespace moerecal::model {
namespace {

void read_fp8(const ConfigReader& cfg, ModelSpec& s) {
  const nlohmann::json* q = cfg.object_or_null("quantization_config");
  if (q == nullptr) return;
  const std::string label(cfg.label());
  const std::string method = cfg.nested_string_or(*q, "quantization_config", "quant_method", "");
  if (method != "fp8") {
    throw FormatError(label + ": key 'quantization_config': quant_method '" + method +
                      "' is not supported (expected fp8)");
  }
  const nlohmann::json block = q->value("weight_block_size", nlohmann::json::array({128, 128}));
  if (!block.is_array() || block.size() != 2 || !block[0].is_number_integer() ||
      !block[1].is_number_integer() || block[0].get<int>() < 1 || block[1].get<int>() < 1) {
    throw FormatError(label + ": key 'quantization_config': weight_block_size: expected two " +
                      "positive integers, found " + block.dump());
  }
  s.fp8 = {block[0].get<int>(), block[1].get<int>()};
}

}  // namespace

void read_deepseek_moe(const ConfigReader& cfg, ModelSpec& s, int first_dense_default) {
  s.routing.n_experts = cfg.require_int({"n_routed_experts", "num_local_experts", "num_experts"});
  s.expert_width = cfg.require_int({"moe_intermediate_size"});
  s.dense_width = cfg.require_int({"intermediate_size"});
  const int n_shared = cfg.int_or({"n_shared_experts"}, s.model_type == "deepseek_v2" ? 2 : 1);
  s.shared.width = n_shared * s.expert_width;
  const int first_dense = cfg.int_or({"first_k_dense_replace"}, first_dense_default);
  for (int i = first_dense; i < s.n_layers; ++i) s.moe_layers.push_back(i);
  s.extra_layers = cfg.int_or({"num_nextn_predict_layers"}, 0);
  read_fp8(cfg, s);
}

void read_groups(const ConfigReader& cfg, ModelSpec& s, int n_group_default,
                 int topk_group_default) {
  RoutingRule& r = s.routing;
  const std::string label(cfg.label());
  r.n_group = cfg.int_or({"n_group"}, n_group_default);
  r.topk_group = cfg.int_or({"topk_group"}, topk_group_default);
  if (r.n_group < 1 || r.n_experts % r.n_group != 0) {
    throw FormatError(label + ": key 'n_group': " + std::to_string(r.n_group) +
                      " does not divide n_routed_experts " + std::to_string(r.n_experts));
  }
  if (r.topk_group < 1 || r.topk_group > r.n_group) {
    throw FormatError(label + ": key 'topk_group': expected 1.." + std::to_string(r.n_group) +
                      " (n_group), found " + std::to_string(r.topk_group));
  }
  const int per = r.n_experts / r.n_group;
  if (r.topk_group * per < r.top_k) {
    throw FormatError(label + ": key 'topk_group': " + std::to_string(r.topk_group) +
                      " groups of " + std::to_string(per) + " experts hold fewer than " +
                      "num_experts_per_tok " + std::to_string(r.top_k));
  }
  if (r.group_score == GroupScore::kTopTwoSum && per < 2) {
    throw FormatError(label + ": key 'n_group': " + std::to_string(r.n_group) +
                      " leaves fewer than 2 experts per group (the group score sums the top 2)");
  }
  if (r.n_group == 1) r.group_score = GroupScore::kNone;  // one group: nothing to limit
}

void read_v3_router(const ConfigReader& cfg, ModelSpec& s, int n_group_default,
                    int topk_group_default, double scaling_default) {
  RoutingRule& r = s.routing;
  r.score = ScoreFn::kSigmoid;
  r.selection_bias = true;
  r.group_score = GroupScore::kTopTwoSum;
  r.renormalize = cfg.bool_or("norm_topk_prob", true);
  r.renorm_eps = 1e-20;
  r.scaling = cfg.number_or("routed_scaling_factor", scaling_default);
  read_groups(cfg, s, n_group_default, topk_group_default);
}

}  // namespace moerecal::model
