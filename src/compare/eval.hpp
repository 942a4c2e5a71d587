// Shadow eval (DESIGN.md §2 eval, §4 metrics): base and candidate over the same token windows,
// routing metrics per MoE layer for both and their agreement, and model metrics on the scored
// positions (the second half of each window). When the two checkpoints differ only in their
// routers, one pass carries both through each layer's weights loaded once (lockstep).
#pragma once

#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "analysis/expert_operand.hpp"
#include "engine/layer_weights.hpp"
#include "linalg/backend.hpp"
#include "linalg/principal.hpp"
#include "model/model.hpp"

namespace moerecal::compare {

struct EvalSides {
  const model::MoeModel* base = nullptr;
  const model::MoeModel* cand = nullptr;  // may equal base when cand_routers is given
  // Candidate routers [E, d] by MoE layer replacing cand's own (calibrate --eval-data); layers
  // absent keep the checkpoint's router.
  const std::map<int, engine::RouterWeights>* cand_routers = nullptr;
};

struct EvalOptions {
  analysis::ExpertMatrix matrix = analysis::ExpertMatrix::kGateUp;  // for alignment
  linalg::PrincipalOptions solver;
  std::function<void(int, int)> on_layer;  // progress (layer, layers) per pass
  std::size_t expert_memory = engine::kDefaultExpertMemory;
  // Named subsets of the windows (slice name -> window indices, ascending); each gets every
  // metric again on its own windows.
  std::map<std::string, std::vector<std::size_t>> slices;
};

// Returns {"settings": {shared_weights, backend}, "notes": [...], "metrics": {...},
// "layers": [...], "kl_histogram": {...}, "n_scored": N, "slices": {name: {"metrics", "n_scored",
// "n_tokens", "n_windows", "layers"}}}; "metrics" (overall and per slice) holds exactly the names
// of report::metric_table(); a slice without a scored position has null model metrics. Model
// metrics of a slice come from the scored positions of its windows, routing metrics from all its
// tokens. Throws FormatError when the two models do not have the same architecture (family,
// sizes, vocabulary).
nlohmann::json evaluate(const EvalSides& sides, const std::vector<std::vector<int>>& windows,
                        linalg::Backend& be, const EvalOptions& opt);

}  // namespace moerecal::compare
