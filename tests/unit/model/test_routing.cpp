// model::route against hand computations, one rule at a time (ARCHITECTURES.md §2.3, §6.4, §6.6,
// §7.4, §13): the expected experts are worked out by hand in the comments, the expected weights
// from the rule's formula written out here.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>

#include "model/routing.hpp"

using namespace moerecal::model;

namespace {

Routes run(const RoutingRule& r, const std::vector<float>& logits,
           const float* router_bias = nullptr, const float* selection_bias = nullptr) {
  Routes out;
  route(r, logits.data(), static_cast<int>(logits.size()) / r.n_experts, router_bias,
        selection_bias, out);
  return out;
}

double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

RoutingRule softmax_rule(int E, int k, bool renorm) {
  RoutingRule r;
  r.n_experts = E;
  r.top_k = k;
  r.renormalize = renorm;
  return r;
}

}  // namespace

TEST_SUITE("model") {
  TEST_CASE("route softmax then top-k: weights are the probabilities, renormalised on request") {
    const std::vector<float> z = {1, 2, 3, 0};
    const double sum = std::exp(1) + std::exp(2) + std::exp(3) + std::exp(0);
    Routes r = run(softmax_rule(4, 2, false), z);
    CHECK(r.experts == std::vector<int>{2, 1});
    CHECK(r.weights[0] == doctest::Approx(std::exp(3) / sum).epsilon(1e-6));
    CHECK(r.weights[1] == doctest::Approx(std::exp(2) / sum).epsilon(1e-6));
    r = run(softmax_rule(4, 2, true), z);
    CHECK(r.weights[0] == doctest::Approx(std::exp(3) / (std::exp(3) + std::exp(2))).epsilon(1e-6));
    CHECK(r.weights[0] + r.weights[1] == doctest::Approx(1.0).epsilon(1e-6));
  }

  TEST_CASE("route ties go to the lower expert index, token by token") {
    const std::vector<float> z = {1, 1, 1, 1, /* token 2 */ 0, 5, 0, 5};
    const Routes r = run(softmax_rule(4, 2, false), z);
    CHECK(r.experts == std::vector<int>{0, 1, 1, 3});
    CHECK(r.weights[0] == doctest::Approx(0.25));
  }

  TEST_CASE("route top-k then softmax (gpt-oss): the router bias chooses and weights") {
    RoutingRule rule = softmax_rule(4, 2, false);
    rule.top_k_then_softmax = true;
    rule.router_bias = true;
    const std::vector<float> z = {0, 1, 2, 3}, bias = {3, 0, 0, -2};
    // biased logits 3, 1, 2, 1: experts 0 and 2; softmax over {3, 2}
    const Routes r = run(rule, z, bias.data());
    CHECK(r.experts == std::vector<int>{0, 2});
    CHECK(r.weights[0] == doctest::Approx(std::exp(1) / (std::exp(1) + 1)).epsilon(1e-6));
    CHECK(r.weights[1] == doctest::Approx(1 / (std::exp(1) + 1)).epsilon(1e-6));
  }

  TEST_CASE("route sigmoid + selection bias: the bias changes the choice, not the weights") {
    RoutingRule rule = softmax_rule(4, 2, false);
    rule.score = ScoreFn::kSigmoid;
    rule.selection_bias = true;
    const std::vector<float> z = {2, 1, 0, -1}, bias = {0, 0, 5, 0};
    // scores+bias: s(2), s(1), s(0)+5, s(-1): experts 2 then 0; weights unbiased s(0), s(2)
    Routes r = run(rule, z, nullptr, bias.data());
    CHECK(r.experts == std::vector<int>{2, 0});
    CHECK(r.weights[0] == doctest::Approx(sigmoid(0)).epsilon(1e-6));
    CHECK(r.weights[1] == doctest::Approx(sigmoid(2)).epsilon(1e-6));
    rule.renormalize = true;
    rule.renorm_eps = 1e-20;
    rule.scaling = 2.5;
    r = run(rule, z, nullptr, bias.data());
    CHECK(r.weights[0] ==
          doctest::Approx(2.5 * sigmoid(0) / (sigmoid(0) + sigmoid(2))).epsilon(1e-6));
    CHECK(r.weights[0] + r.weights[1] == doctest::Approx(2.5).epsilon(1e-6));
  }

  TEST_CASE("route group-limited (DeepSeek-V3): dropped groups score 0.0, beating negatives") {
    RoutingRule rule = softmax_rule(8, 2, false);
    rule.score = ScoreFn::kSigmoid;
    rule.selection_bias = true;
    rule.n_group = 4;
    rule.topk_group = 2;
    rule.group_score = GroupScore::kTopTwoSum;
    // groups {0,1} {2,3} {4,5} {6,7}; every biased score s - 1 is negative.
    const std::vector<float> z = {-3, -2, -1, -2, 2, 1, 1, 3};
    const std::vector<float> bias(8, -1.0f);
    // group sums of the top two: g0 s(-2)+s(-3)-2, g1 s(-1)+s(-2)-2, g2 s(2)+s(1)-2, g3 s(3)+s(1)-2
    // -> g3 and g2 kept; g0 and g1 masked to 0.0, above every kept (negative) score, so the
    // selection is experts 0 and 1 (tie at 0.0 -> lower index), as transformers' 0.0 fill gives;
    // a -inf fill would give 7 and 4.
    const Routes r = run(rule, z, nullptr, bias.data());
    CHECK(r.experts == std::vector<int>{0, 1});
    CHECK(r.weights[0] == doctest::Approx(sigmoid(-3)).epsilon(1e-6));
    // With a positive bias the kept groups win: s(3)+1 for 7, s(2)+1 for 4.
    const std::vector<float> up(8, 1.0f);
    CHECK(run(rule, z, nullptr, up.data()).experts == std::vector<int>{7, 4});
  }

  TEST_CASE("route group-limited greedy (DeepSeek-V2): group score = max, scaled weights") {
    RoutingRule rule = softmax_rule(6, 2, false);
    rule.n_group = 3;
    rule.topk_group = 1;
    rule.group_score = GroupScore::kMax;
    rule.scaling = 16.0;
    // groups {0,1} {2,3} {4,5}: max logits 1, 4, 3.9 -> only group 1 kept: experts 2 and 3
    // (probabilities of the dropped groups masked to 0).
    const std::vector<float> z = {1, 0, 4, -5, 3.9f, 3.8f};
    const Routes r = run(rule, z);
    double sum = 0;
    for (float x : z) sum += std::exp(x);
    CHECK(r.experts == std::vector<int>{2, 3});
    CHECK(r.weights[0] == doctest::Approx(16.0 * std::exp(4) / sum).epsilon(1e-6));
    CHECK(r.weights[1] == doctest::Approx(16.0 * std::exp(-5) / sum).epsilon(1e-5));
  }

  TEST_CASE("route top-k equals a stable sort by score on many ties, for every k") {
    // Logits from 5 values only, so most tokens have ties inside and across the cut: the choice
    // must be the first k of the indices stably sorted by falling probability.
    std::mt19937 gen(7);
    std::uniform_int_distribution<int> level(0, 4);
    const int E = 64, T = 50;
    std::vector<float> z(std::size_t(T) * E);
    for (float& v : z) v = 0.5f * static_cast<float>(level(gen));
    for (int k : {1, 2, 8, 13, 64}) {
      const Routes r = run(softmax_rule(E, k, false), z);
      for (int t = 0; t < T; ++t) {
        std::vector<int> order(E);
        std::iota(order.begin(), order.end(), 0);
        const float* zt = z.data() + std::size_t(t) * E;
        std::stable_sort(order.begin(), order.end(), [zt](int a, int b) { return zt[a] > zt[b]; });
        const std::vector<int> got(r.experts.begin() + std::size_t(t) * k,
                                   r.experts.begin() + std::size_t(t + 1) * k);
        CHECK(got == std::vector<int>(order.begin(), order.begin() + k));
      }
    }
  }

  TEST_CASE("route_selection chooses the same experts as route, near-ties and underflow included") {
    // Sets compared token by token for each rule kind; the logits mix wide draws, pairs one float
    // step apart at the top-k boundary, and values so far below the maximum that their
    // probabilities underflow to 0 (where route's choice is by index, not by logit).
    std::mt19937 gen(11);
    std::normal_distribution<float> wide(0.0f, 3.0f);
    const int E = 16, T = 400;
    std::vector<float> z(std::size_t(T) * E), bias(E);
    for (float& v : z) v = wide(gen);
    for (float& b : bias) b = 0.1f * wide(gen);
    for (int t = 0; t < T; t += 4) {  // a neighbour one float step away
      float* zt = z.data() + std::size_t(t) * E;
      for (int e = 1; e < E; e += 2) zt[e - 1] = std::nextafter(zt[e], -INFINITY);
    }
    for (int t = 1; t < T; t += 4) {  // underflow: experts 1.. far below expert 0
      float* zt = z.data() + std::size_t(t) * E;
      zt[0] = 50.0f;
      for (int e = 1; e < E; ++e) zt[e] = -100.0f - static_cast<float>(E - e);
    }
    RoutingRule top_first = softmax_rule(E, 3, false);
    top_first.top_k_then_softmax = true;
    RoutingRule sigmoid = softmax_rule(E, 3, true);
    sigmoid.score = ScoreFn::kSigmoid;
    for (const RoutingRule& rule : {softmax_rule(E, 3, false), softmax_rule(E, 1, true),
                                    softmax_rule(E, E, false), top_first, sigmoid}) {
      for (const float* b : std::vector<const float*>{nullptr, bias.data()}) {
        Routes want;
        route(rule, z.data(), T, b, nullptr, want);
        std::vector<int> got;
        route_selection(rule, z.data(), T, b, nullptr, got);
        REQUIRE(got.size() == want.experts.size());
        const int k = rule.top_k;
        for (int t = 0; t < T; ++t) {
          std::vector<int> a(got.begin() + t * k, got.begin() + (t + 1) * k);
          std::vector<int> w(want.experts.begin() + t * k, want.experts.begin() + (t + 1) * k);
          std::sort(a.begin(), a.end());
          std::sort(w.begin(), w.end());
          CHECK(a == w);
        }
      }
    }
    // The underflow case by hand: probabilities 1, 0, 0; route takes expert 1 (lower index) where
    // top-k on the logits would take expert 2.
    const std::vector<float> zu = {0.0f, -201.0f, -200.0f};
    std::vector<int> got;
    route_selection(softmax_rule(3, 2, false), zu.data(), 1, nullptr, nullptr, got);
    CHECK(got == std::vector<int>{0, 1});
  }
}
