// model::SelectionCounts against counting route()'s choices afresh at every step of bias walks
// like the balancing searches' (sign steps small and large, jumps back to an earlier bias), on
// logits with exact ties after the bias is added, neighbours one float step apart and softmax
// underflow, for every kind of rule: the incremental ones (a moving router bias on the logits, a
// moving selection bias on sigmoid scores) and those it routes in full (groups that drop experts).
#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

#include "model/selection_counts.hpp"

using namespace moerecal::model;

namespace {

std::vector<int> counted_by_route(const RoutingRule& r, const std::vector<float>& z, int T,
                                  const float* router_bias, const float* selection_bias) {
  Routes out;
  route(r, z.data(), T, router_bias, selection_bias, out);
  std::vector<int> c(r.n_experts, 0);
  for (int e : out.experts) ++c[e];
  return c;
}

RoutingRule rule_of(int E, int k) {
  RoutingRule r;
  r.n_experts = E;
  r.top_k = k;
  return r;
}

// Logits on a grid of 1/4 (biases on a grid of 1/8 meet them in exact ties), with some tokens
// holding neighbours one float step apart and some whose tail underflows the softmax.
std::vector<float> tie_prone_logits(int T, int E, std::mt19937& gen) {
  std::normal_distribution<float> n(0.0f, 1.5f);
  std::vector<float> z(std::size_t(T) * E);
  for (float& v : z) v = std::round(4.0f * n(gen)) / 4.0f;
  for (int t = 0; t < T; t += 5) {
    float* zt = z.data() + std::size_t(t) * E;
    for (int e = 1; e < E; e += 2) zt[e - 1] = std::nextafter(zt[e], -INFINITY);
  }
  for (int t = 2; t < T; t += 7) {
    float* zt = z.data() + std::size_t(t) * E;
    for (int e = 3; e < E; ++e) zt[e] = -95.0f - 0.5f * static_cast<float>(e);
  }
  return z;
}

// A walk of biases: sign steps of a size that grows and shrinks from `u` (the searches start at
// 2% of the values' spread), and returns to earlier points.
std::vector<std::vector<float>> bias_walk(int E, int steps, float u, std::mt19937& gen) {
  std::uniform_int_distribution<int> coin(0, 1), pick(0, 9);
  std::vector<std::vector<float>> walk{std::vector<float>(E, 0.0f)};
  for (int i = 1; i < steps; ++i) {
    std::vector<float> b = walk.back();
    const int what = pick(gen);
    if (what == 0) {
      b = walk[walk.size() / 2];  // back to the best so far, as the search does
    } else {
      if (what == 1) u *= 2;
      if (what == 2 && u > 1.0f / 1024) u /= 2;
      for (float& x : b) x += coin(gen) ? u : -u;
    }
    walk.push_back(b);
  }
  return walk;
}

}  // namespace

TEST_SUITE("model") {
  TEST_CASE("SelectionCounts gives route()'s counts at every step of a bias walk, every rule") {
    std::mt19937 gen(5);
    const int E = 12, T = 600;
    const std::vector<float> z = tie_prone_logits(T, E, gen);
    std::vector<float> other(E);
    for (float& b : other) b = 0.25f * static_cast<float>(gen() % 5);
    RoutingRule top_first = rule_of(E, 3);
    top_first.top_k_then_softmax = true;
    RoutingRule sigmoid = rule_of(E, 4);
    sigmoid.score = ScoreFn::kSigmoid;
    RoutingRule all_groups = sigmoid;  // groups that keep every expert: plain top-k
    all_groups.n_group = 4;
    all_groups.topk_group = 4;
    all_groups.group_score = GroupScore::kTopTwoSum;
    RoutingRule grouped = all_groups;
    grouped.topk_group = 2;
    struct Case {
      RoutingRule rule;
      bool router_moves;
      bool fixed_other;
      bool incremental;
    };
    for (const Case& c :
         {Case{rule_of(E, 3), true, false, true}, Case{rule_of(E, 1), true, false, true},
          Case{top_first, true, false, true}, Case{top_first, true, true, true},
          Case{rule_of(E, E), true, false, true}, Case{rule_of(E, 3), true, true, false},
          Case{sigmoid, false, false, true}, Case{sigmoid, false, true, true},
          Case{all_groups, false, true, true}, Case{grouped, false, true, false},
          Case{grouped, false, false, false}}) {
      CAPTURE(c.rule.top_k);
      CAPTURE(c.router_moves);
      CAPTURE(c.fixed_other);
      CAPTURE(c.rule.n_group);
      const float* fixed = c.fixed_other ? other.data() : nullptr;
      SelectionCounts counts(c.rule, z.data(), T, c.router_moves, c.router_moves ? nullptr : fixed,
                             c.router_moves ? fixed : nullptr);
      // Logits spread over about 8, sigmoid scores over about 0.8.
      const float first_step = c.rule.score == ScoreFn::kSigmoid ? 1.0f / 1024 : 1.0f / 128;
      const auto walk = bias_walk(E, 120, first_step, gen);
      for (const std::vector<float>& b : walk) {
        const std::vector<int> want = c.router_moves
                                          ? counted_by_route(c.rule, z, T, b.data(), fixed)
                                          : counted_by_route(c.rule, z, T, fixed, b.data());
        REQUIRE(counts.counts(b) == want);
      }
      const long long full = static_cast<long long>(T) * static_cast<long long>(walk.size());
      if (c.incremental) {
        // Tokens keep their choice from step to step: most of them on the logits; fewer on these
        // sigmoid scores, whose ties (logits on a grid) and saturation leave many gaps at 0.
        CHECK(counts.routed() < (c.router_moves ? full / 2 : full));
      } else {
        CHECK(counts.routed() == full);
      }
    }
  }

  TEST_CASE("SelectionCounts routes a token again once the bias closes its gap") {
    // Token 0: logits 1.0, 0.5, 0.0, top-1. Expert 0 leads by 0.5; a bias of +0.3 on expert 1
    // keeps it (gap 0.2), +0.6 makes expert 1 the choice.
    const std::vector<float> z = {1.0f, 0.5f, 0.0f};
    RoutingRule r = rule_of(3, 1);
    SelectionCounts counts(r, z.data(), 1, true, nullptr, nullptr);
    CHECK(counts.counts({0.0f, 0.0f, 0.0f}) == std::vector<int>{1, 0, 0});
    CHECK(counts.counts({0.0f, 0.1f, 0.0f}) == std::vector<int>{1, 0, 0});
    CHECK(counts.routed() == 1);  // moved 0.1, under half the gap 0.5
    CHECK(counts.counts({0.0f, 0.3f, 0.0f}) == std::vector<int>{1, 0, 0});
    CHECK(counts.routed() == 2);  // moved 0.3: past half the gap, routed again (gap now 0.2)
    CHECK(counts.counts({0.0f, 0.6f, 0.0f}) == std::vector<int>{0, 1, 0});
    CHECK(counts.routed() == 3);
  }
}
