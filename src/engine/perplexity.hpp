// Perplexity as llama.cpp's tool scores it (DESIGN.md §4): in a window of n tokens, positions
// floor(n/2) .. n-2 each predict the next token, so every scored token has context.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/forward.hpp"

namespace moerecal::engine {

struct Perplexity {
  double nll_sum = 0;
  std::int64_t n_scored = 0;
  double nll_mean() const { return n_scored ? nll_sum / n_scored : 0.0; }
  double ppl() const;
};

// The scored positions of windows laid end to end: for each window of n tokens, positions
// floor(n/2) .. n-2 as rows of the concatenation, and the next token each predicts.
struct ScoredPositions {
  std::vector<std::size_t> rows;
  std::vector<int> targets;
};
ScoredPositions scored_positions(const std::vector<std::vector<int>>& windows);

// All windows advance through the layers together; logits are formed only for scored rows.
Perplexity perplexity(const model::MoeModel& m, linalg::Backend& be,
                      const std::vector<std::vector<int>>& windows, const ForwardOptions& opt = {});

}  // namespace moerecal::engine
