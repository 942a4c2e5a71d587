// Expert load on a set of tokens (DESIGN.md §4): load_e = share of the T*k routing slots that go
// to expert e; maxvio = E * max_e load_e - 1; dead = experts with no token; cold = experts below
// 10% of the uniform share; entropy = H(load) / ln E.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

namespace moerecal::recal {

struct LoadStats {
  std::vector<double> load;
  double maxvio = 0;
  int dead = 0;
  int cold = 0;
  double entropy = 0;
};

// From per-token selected experts [T, k].
LoadStats load_stats(const int* selected, int n_tokens, int k, int n_experts);

// Top-k experts per token from router logits [T, E] (softmax is monotonic, so the logits' order
// is the probabilities' order; ties go to the lower index, as in the engine).
std::vector<int> select_top_k(const float* logits, int n_tokens, int n_experts, int k);

nlohmann::json to_json(const LoadStats& s);

}  // namespace moerecal::recal
