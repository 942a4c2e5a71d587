// Config keys the DeepSeek-lineage families share (deepseek_v3, kimi_k2, deepseek_v2, glm4_moe):
// dense layers below first_k_dense_replace, ungated shared experts, the V3 router (sigmoid,
// selection bias, groups, scaling), multi-token-prediction layers, FP8 quantization_config.
#pragma once

#include "model/config_reader.hpp"
#include "model/spec.hpp"

namespace moerecal::model {

// Experts, widths, shared experts, MoE layers (i >= first_k_dense_replace, default
// `first_dense_default`), MTP layers and FP8 blocks.
void read_deepseek_moe(const ConfigReader& cfg, ModelSpec& s, int first_dense_default);

// n_group / topk_group with their defaults; FormatError naming the key when n_group does not
// divide the experts, topk_group is outside 1..n_group or the kept groups hold fewer than k.
void read_groups(const ConfigReader& cfg, ModelSpec& s, int n_group_default,
                 int topk_group_default);

// DeepSeek-V3's router: sigmoid, e_score_correction_bias for selection, group score = sum of
// the top two, norm_topk_prob (default true, + 1e-20), routed_scaling_factor.
void read_v3_router(const ConfigReader& cfg, ModelSpec& s, int n_group_default,
                    int topk_group_default, double scaling_default);

}  // namespace moerecal::model
