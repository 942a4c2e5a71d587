#include "report/metrics.hpp"

namespace moerecal::report {

const std::vector<MetricInfo>& metric_table() {
  using B = Better;
  using F = Format;
  static const std::vector<MetricInfo> t = {
      {"kl.mean", "KL(P_base ‖ P_cand) per scored position, nats, mean", B::kLower, F::kReal},
      {"kl.stderr", "standard error of kl.mean", B::kLower, F::kReal},
      {"kl.median", "KL median", B::kLower, F::kReal},
      {"kl.p90", "KL 90th percentile", B::kLower, F::kReal},
      {"kl.p99", "KL 99th percentile", B::kLower, F::kReal},
      {"kl.p999", "KL 99.9th percentile", B::kLower, F::kReal},
      {"kl.max", "KL maximum", B::kLower, F::kReal},
      {"top1_agree", "share of positions where base and candidate argmax agree", B::kHigher,
       F::kReal},
      {"ppl.base", "perplexity of the base model", B::kNeither, F::kReal},
      {"ppl.cand", "perplexity of the candidate", B::kLower, F::kReal},
      {"ppl.ln_ratio", "ln(PPL_cand / PPL_base)", B::kLower, F::kReal},
      {"dp.mean", "p_cand(correct) − p_base(correct), mean", B::kHigher, F::kReal},
      {"dp.rms", "p_cand(correct) − p_base(correct), RMS", B::kLower, F::kReal},
      {"routing.maxvio.base", "E·max load − 1, mean over MoE layers, base", B::kNeither, F::kReal},
      {"routing.maxvio.cand", "E·max load − 1, mean over MoE layers, candidate", B::kLower,
       F::kReal},
      {"routing.maxvio.delta", "maxvio candidate − base", B::kLower, F::kReal},
      {"routing.maxvio.max.base", "worst layer's maxvio, base", B::kNeither, F::kReal},
      {"routing.maxvio.max.cand", "worst layer's maxvio, candidate", B::kLower, F::kReal},
      {"routing.dead.base", "experts receiving no token, summed over layers, base", B::kNeither,
       F::kCount},
      {"routing.dead.cand", "experts receiving no token, summed over layers, candidate", B::kLower,
       F::kCount},
      {"routing.dead.delta", "dead candidate − base", B::kLower, F::kCount},
      {"routing.cold.base", "experts below 10% of the uniform share, summed, base", B::kNeither,
       F::kCount},
      {"routing.cold.cand", "experts below 10% of the uniform share, summed, candidate", B::kLower,
       F::kCount},
      {"routing.cold.delta", "cold candidate − base", B::kLower, F::kCount},
      {"routing.entropy.base", "H(load)/ln E, mean over layers, base", B::kNeither, F::kReal},
      {"routing.entropy.cand", "H(load)/ln E, mean over layers, candidate", B::kHigher, F::kReal},
      {"routing.entropy.delta", "entropy candidate − base", B::kHigher, F::kReal},
      {"routing.topk_agree", "mean |S_base ∩ S_cand| / k over tokens and layers", B::kHigher,
       F::kReal},
      {"routing.top1_agree", "top expert agreement over tokens and layers", B::kHigher, F::kReal},
      {"routing.alignment.base", "mean |cos(r_e, v_e)| over experts and layers, base", B::kNeither,
       F::kReal},
      {"routing.alignment.cand", "mean |cos(r_e, v_e)| over experts and layers, candidate",
       B::kHigher, F::kReal},
      {"routing.wasted_bytes.base", "parameter bytes of dead experts, base", B::kNeither,
       F::kBytes},
      {"routing.wasted_bytes.cand", "parameter bytes of dead experts, candidate", B::kLower,
       F::kBytes},
      {"routing.wasted_bytes.delta", "wasted_bytes candidate − base", B::kLower, F::kBytes},
  };
  return t;
}

const MetricInfo* find_metric(std::string_view name) {
  for (const MetricInfo& m : metric_table()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

}  // namespace moerecal::report
