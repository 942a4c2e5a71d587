// Router health figures on hand-computed cases.
#include <doctest/doctest.h>

#include <cmath>

#include "analysis/router_health.hpp"

using namespace moerecal;

TEST_SUITE("analysis") {
  TEST_CASE("norms / max pairwise cosine and alignment of a 3x2 router") {
    analysis::RouterLayer r;
    r.layer = 4;
    r.tensor = "model.layers.4.mlp.gate.weight";
    r.n_experts = 3;
    r.hidden = 2;
    r.rows = {3, 4, 0, 2, -1, 0};  // norms 5, 2, 1
    std::vector<linalg::PrincipalResult> dirs(3);
    dirs[0].v = {1, 0};        // cos = 3/5
    dirs[1].v = {0.6f, 0.8f};  // cos = 0.8
    dirs[2].v = {0, 1};        // cos = 0
    dirs[1].iterations = 7;
    dirs[2].residual = 1e-7;
    auto be = linalg::make_backend();
    analysis::LayerHealth h = analysis::router_health(*be, r, dirs);
    CHECK(h.layer == 4);
    CHECK(h.norm_min == doctest::Approx(1.0));
    CHECK(h.norm_max == doctest::Approx(5.0));
    CHECK(h.norm_mean == doctest::Approx(8.0 / 3));
    // cos(r0, r1) = 8/10, cos(r0, r2) = -3/5, cos(r1, r2) = 0
    CHECK(h.row_cos_max == doctest::Approx(0.8).epsilon(1e-6));
    CHECK(h.row_cos_pair[0] == 0);
    CHECK(h.row_cos_pair[1] == 1);
    CHECK(h.experts[0].alignment == doctest::Approx(0.6));
    CHECK(h.experts[1].alignment == doctest::Approx(0.8));
    CHECK(h.experts[2].alignment == doctest::Approx(0.0));
    CHECK(h.align_mean == doctest::Approx(1.4 / 3));
    CHECK(h.align_min == doctest::Approx(0.0));
    CHECK(h.solver_iterations_max == 7);
    CHECK(h.solver_residual_max == doctest::Approx(1e-7));
    auto j = analysis::to_json(h);
    CHECK(j["row_norm"]["max"].get<double>() == doctest::Approx(5.0));
    CHECK(j["experts"].size() == 3);
  }
}
