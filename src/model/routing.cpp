#include "model/routing.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"

namespace moerecal::model {
namespace {

// Per-call scratch, reused across tokens.
struct Scratch {
  std::vector<float> z, s, c, group;
  std::vector<double> exps;
  std::vector<int> kept;
};

// Indices of the k largest of v[0, n), best first; ties go to the lower index. Insertion into the
// k best so far: a value enters only when it beats the k-th strictly, and moves up only past
// smaller values, so equal values keep the order of their indices. O(n k), against a full sort's
// n log n with index indirection: routing top-k (k <= 8 or so) runs once per token and bias step.
void top_k(const float* v, int n, int k, int* idx) {
  int filled = 0;
  for (int e = 0; e < n; ++e) {
    const float x = v[e];
    if (filled == k && !(x > v[idx[k - 1]])) continue;
    int p = filled < k ? filled++ : k - 1;
    for (; p > 0 && x > v[idx[p - 1]]; --p) idx[p] = idx[p - 1];
    idx[p] = e;
  }
}

// Max-shifted softmax with the sum in double; each exponential computed once.
void softmax(const float* z, int n, float* p, std::vector<double>& e) {
  const float mx = *std::max_element(z, z + n);
  e.resize(n);
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += e[i] = std::exp(double{z[i]} - mx);
  for (int i = 0; i < n; ++i) p[i] = static_cast<float>(e[i] / sum);
}

float group_score(const float* c, int n, GroupScore how) {
  if (how == GroupScore::kMax) return *std::max_element(c, c + n);
  float a = -INFINITY, b = -INFINITY;  // the two largest
  for (int i = 0; i < n; ++i) {
    if (c[i] > a) {
      b = a;
      a = c[i];
    } else if (c[i] > b) {
      b = c[i];
    }
  }
  return a + b;
}

// Sets to 0.0 the selection scores of the experts outside the topk_group best groups.
void mask_groups(const RoutingRule& r, float* c, Scratch& x) {
  const int per = r.n_experts / r.n_group;
  x.group.resize(r.n_group);
  x.kept.resize(r.topk_group);
  for (int g = 0; g < r.n_group; ++g) x.group[g] = group_score(c + g * per, per, r.group_score);
  top_k(x.group.data(), r.n_group, r.topk_group, x.kept.data());
  for (int g = 0; g < r.n_group; ++g) {
    if (std::find(x.kept.begin(), x.kept.end(), g) == x.kept.end()) {
      std::fill(c + g * per, c + (g + 1) * per, 0.0f);
    }
  }
}

// gpt-oss: top-k on the biased logits, softmax over the k selected.
void route_top_k_first(const RoutingRule& r, const float* z, int* sel, float* w, Scratch& x) {
  top_k(z, r.n_experts, r.top_k, sel);
  x.s.resize(r.top_k);
  for (int j = 0; j < r.top_k; ++j) x.s[j] = z[sel[j]];
  softmax(x.s.data(), r.top_k, w, x.exps);
}

void weights_of(const RoutingRule& r, const float* s, const int* sel, float* w) {
  double sum = 0;
  for (int j = 0; j < r.top_k; ++j) sum += s[sel[j]];
  for (int j = 0; j < r.top_k; ++j) {
    const float p = s[sel[j]];
    w[j] = r.renormalize ? static_cast<float>(p / (sum + r.renorm_eps)) : p;
    if (r.scaling != 1.0) w[j] = static_cast<float>(w[j] * r.scaling);
  }
}

void route_token(const RoutingRule& r, const float* z, const float* selection_bias, int* sel,
                 float* w, Scratch& x) {
  const int E = r.n_experts;
  x.s.resize(E);
  if (r.score == ScoreFn::kSoftmax) {
    softmax(z, E, x.s.data(), x.exps);
  } else {
    for (int e = 0; e < E; ++e) x.s[e] = static_cast<float>(1.0 / (1.0 + std::exp(-double{z[e]})));
  }
  const float* choose = x.s.data();
  if (selection_bias != nullptr || r.group_score != GroupScore::kNone) {
    x.c = x.s;
    if (selection_bias != nullptr) {
      for (int e = 0; e < E; ++e) x.c[e] += selection_bias[e];
    }
    if (r.group_score != GroupScore::kNone) mask_groups(r, x.c.data(), x);
    choose = x.c.data();
  }
  top_k(choose, E, r.top_k, sel);
  weights_of(r, x.s.data(), sel, w);
}

}  // namespace

void route(const RoutingRule& r, const float* logits, int n_tokens, const float* router_bias,
           const float* selection_bias, Routes& out) {
  MR_ASSERT(r.top_k >= 1 && r.top_k <= r.n_experts);
  MR_ASSERT(r.group_score == GroupScore::kNone ||
            (r.n_group >= 1 && r.n_experts % r.n_group == 0 && r.topk_group <= r.n_group));
  const int E = r.n_experts, k = r.top_k;
  out.n_tokens = n_tokens;
  out.k = k;
  out.experts.resize(std::size_t(n_tokens) * k);
  out.weights.resize(std::size_t(n_tokens) * k);
  Scratch x;
  for (int t = 0; t < n_tokens; ++t) {
    const float* z = logits + std::size_t(t) * E;
    if (router_bias != nullptr) {
      x.z.assign(z, z + E);
      for (int e = 0; e < E; ++e) x.z[e] += router_bias[e];
      z = x.z.data();
    }
    int* sel = out.experts.data() + std::size_t(t) * k;
    float* w = out.weights.data() + std::size_t(t) * k;
    if (r.top_k_then_softmax) {
      route_top_k_first(r, z, sel, w, x);
    } else {
      route_token(r, z, selection_bias, sel, w, x);
    }
  }
}

nlohmann::json to_json(const RoutingRule& r) {
  const char* group = r.group_score == GroupScore::kMax         ? "max"
                      : r.group_score == GroupScore::kTopTwoSum ? "top2_sum"
                                                                : "none";
  const char* order = r.top_k_then_softmax           ? "top_k_then_softmax"
                      : r.score == ScoreFn::kSigmoid ? "sigmoid_then_top_k"
                                                     : "softmax_then_top_k";
  return {{"score", r.score == ScoreFn::kSigmoid ? "sigmoid" : "softmax"},
          {"order", order},
          {"renormalize", r.renormalize},
          {"n_group", r.n_group},
          {"topk_group", r.topk_group},
          {"group_score", group},
          {"scaling", r.scaling},
          {"router_bias", r.router_bias},
          {"selection_bias", r.selection_bias}};
}

}  // namespace moerecal::model
