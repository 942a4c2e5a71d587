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
// k best so far (their values kept beside their indices, the k-th in a register): a value enters
// only when it beats the k-th strictly, and moves up only past smaller values, so equal values
// keep the order of their indices. O(n k) at worst, about n comparisons on typical logits: routing
// runs it once per token, and the balancing searches hundreds of times per token.
void top_k(const float* v, int n, int k, int* idx) {
  constexpr int kInline = 64;
  float inline_best[kInline];
  std::vector<float> heap_best(k > kInline ? k : 0);
  float* best = k > kInline ? heap_best.data() : inline_best;
  int filled = 0;
  float kth = 0.0f;  // best[k - 1] once filled == k
  for (int e = 0; e < n; ++e) {
    const float x = v[e];
    if (filled == k && !(x > kth)) continue;
    int p = filled < k ? filled++ : k - 1;
    for (; p > 0 && x > best[p - 1]; --p) {
      best[p] = best[p - 1];
      idx[p] = idx[p - 1];
    }
    best[p] = x;
    idx[p] = e;
    if (filled == k) kth = best[k - 1];
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
    for (int e = 0; e < E; ++e) x.s[e] = sigmoid_score(z[e]);
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

// Token logits z [E] with the router bias added (into x.z), or z itself when there is none.
const float* token_logits(const float* z, int E, const float* router_bias, Scratch& x) {
  if (router_bias == nullptr) return z;
  x.z.assign(z, z + E);
  for (int e = 0; e < E; ++e) x.z[e] += router_bias[e];
  return x.z.data();
}

// Whether the choice of softmax-then-top-k equals top-k on the (biased) logits z for this token,
// given best = the k + 1 best of z (ties to the lower index). The softmax is monotone, so the two
// can differ only where the k-th and (k+1)-th probabilities round to the same float: not when
// their logits are 1e-6 apart (a probability ratio of at least 1 + 1e-6, over the float spacing)
// and the (k+1)-th is within 80 of the maximum (its probability a normal float, above e^-80 / E).
bool logits_decide(const float* z, const int* best, int k) {
  const double mx = z[best[0]], kth = z[best[k - 1]], next = z[best[k]];
  return kth - next >= kDecideGap && next - mx > -kDecideWithin;
}

}  // namespace

float sigmoid_score(float z) { return static_cast<float>(1.0 / (1.0 + std::exp(-double{z}))); }

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
    const float* z = token_logits(logits + std::size_t(t) * E, E, router_bias, x);
    int* sel = out.experts.data() + std::size_t(t) * k;
    float* w = out.weights.data() + std::size_t(t) * k;
    if (r.top_k_then_softmax) {
      route_top_k_first(r, z, sel, w, x);
    } else {
      route_token(r, z, selection_bias, sel, w, x);
    }
  }
}

void route_selection(const RoutingRule& r, const float* logits, int n_tokens,
                     const float* router_bias, const float* selection_bias,
                     std::vector<int>& experts) {
  const int E = r.n_experts, k = r.top_k;
  const bool by_logits =
      r.top_k_then_softmax || (r.score == ScoreFn::kSoftmax && selection_bias == nullptr &&
                               r.group_score == GroupScore::kNone);
  if (!by_logits) {
    Routes out;
    route(r, logits, n_tokens, router_bias, selection_bias, out);
    experts = std::move(out.experts);
    return;
  }
  experts.resize(std::size_t(n_tokens) * k);
  Scratch x;
  std::vector<int> best(k + 1);
  std::vector<float> weights(k);
  for (int t = 0; t < n_tokens; ++t) {
    const float* z = token_logits(logits + std::size_t(t) * E, E, router_bias, x);
    int* sel = experts.data() + std::size_t(t) * k;
    if (r.top_k_then_softmax || k == E) {
      top_k(z, E, k, sel);
      continue;
    }
    top_k(z, E, k + 1, best.data());
    if (logits_decide(z, best.data(), k)) {
      std::copy_n(best.begin(), k, sel);
    } else {
      route_token(r, z, nullptr, sel, weights.data(), x);
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
