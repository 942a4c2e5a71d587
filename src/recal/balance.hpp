// The balancing bias (DeepSeek's aux-loss-free rule, DESIGN.md §1): per expert, b_e += u *
// sign(1/E - load_e) on a layer's router inputs; the step doubles after 5 improvements in a row
// and halves (from the best bias so far) after 10 steps without one. It refits a family's own bias
// (--refit-bias: DeepSeek's selection bias, gpt-oss's router bias) and gives the logit shift that
// the row-shift move turns into rows.
#pragma once

#include <vector>

#include "analysis/load_stats.hpp"
#include "analysis/router_set.hpp"
#include "linalg/backend.hpp"
#include "model/routing.hpp"

namespace moerecal::recal {

// Which bias the refit moves.
enum class BiasKind {
  kSelection,  // chooses experts, does not weight them (DeepSeek-V3)
  kRouter,     // added to the logits (gpt-oss); also the row shift's logit bias
};

struct BalanceOptions {
  int max_iters = 300;
  double first_step = 0.02;  // of the mean spread of the scores plus the bias' own range
};

struct BalanceResult {
  std::vector<float> bias;   // [E], the best one found
  analysis::LoadStats load;  // with it
  int iterations = 0;
  double step = 0;  // the first step, in score units
};

// Starts from the router's current bias of `kind` (zero when it has none) and returns the bias
// with the lowest maxvio seen on router inputs x [T, d].
BalanceResult balance_bias(linalg::Backend& be, const model::RoutingRule& rule,
                           const analysis::RouterLayer& router, BiasKind kind, const float* x,
                           int n_tokens, const BalanceOptions& opt = {});

}  // namespace moerecal::recal
