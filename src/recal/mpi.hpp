// Manifold Power Iteration on one layer's router (DESIGN.md §1): per row, a power step with the
// expert operator A_e followed by a retraction onto the sphere of radius rho (or, for stiefel,
// of the whole matrix onto orthogonal rows of norm rho). Experts are never modified.
#pragma once

#include <string>
#include <vector>

#include "analysis/expert_operand.hpp"
#include "analysis/router_set.hpp"
#include "linalg/backend.hpp"
#include "linalg/principal.hpp"
#include "recal/activation.hpp"

namespace moerecal::recal {

enum class Retraction { kSphere, kStiefel };

struct Radius {
  enum class Kind { kMean, kKeep, kValue } kind = Kind::kMean;
  double value = 0;  // for kValue
};

// --steps converge: iterate to the fixed point.
inline constexpr int kConverge = -1;

struct MpiOptions {
  analysis::ExpertMatrix matrix = analysis::ExpertMatrix::kGateUp;
  int steps = 1;  // power steps; kConverge: to the fixed point; 0: rows are not moved
  Radius radius;
  Retraction retraction = Retraction::kSphere;
  linalg::PrincipalOptions solver;
  int converge_cap = 1000;  // stiefel + converge: iteration cap
  // Solve the principal directions behind the alignment figures; without them (and without
  // converge, which needs them) only the power steps read the experts.
  bool figures = true;
  bool needs_directions() const { return figures || steps == kConverge; }
};

// Parses "mean", "keep" or a positive number. Throws UsageError saying what was expected.
Radius parse_radius(const std::string& s);
// Parses a non-negative integer or "converge" (kConverge). Throws UsageError.
int parse_steps(const std::string& s);

struct LayerMpiResult {
  std::vector<float> rows;                    // new router [E, d], f32 (before dtype rounding)
  std::vector<double> radius;                 // target norm per row
  std::vector<linalg::PrincipalResult> dirs;  // v_e of the chosen expert matrix
  int steps_done = 0;
  bool converged = true;  // every direction solve (and a stiefel converge run) met its tolerance
};

// One layer. `ops` gives expert e's operand for opt.matrix (one expert at a time; with the sphere
// retraction each expert is read once). With `act` the operator is A_e = C W_e^T W_e (direction
// activations), else W_e^T W_e. Sign (DESIGN.md §1): the direction and the row after N steps
// are signed so that v^T C r_old >= 0 (C = I for weights), the one rule for converge and steps.
// Throws UsageError for the stiefel retraction with E > d, BackendError on a numerical failure
// (e.g. a zero row after the power step).
LayerMpiResult mpi_layer(linalg::Backend& be, const analysis::RouterLayer& router,
                         const analysis::OperandSource& ops, const MpiOptions& opt,
                         const ActivationMetric* act = nullptr);

// Principal directions v_e of A_e for every expert (signed towards the router rows).
std::vector<linalg::PrincipalResult> operator_directions(linalg::Backend& be,
                                                         const analysis::RouterLayer& router,
                                                         const analysis::OperandSource& ops,
                                                         const linalg::PrincipalOptions& opt,
                                                         const ActivationMetric* act);

// R <- rho (R R^T)^{-1/2} R for an [E, d] matrix in place (E <= d, full row rank).
void stiefel_retract(linalg::Backend& be, std::vector<float>& rows, int n_rows, int d, double rho);

}  // namespace moerecal::recal
