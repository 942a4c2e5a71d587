// One expert's matrix W_e for an --expert-matrix choice, widened to f32 and owned, as the blocks
// of the operator A_e = W_e^T W_e (DESIGN.md §1). gate_up is gate stacked on up; down contributes
// down_e down_e^T (its left singular direction). Expert matrices are read through the model's
// typed weight access.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "linalg/principal.hpp"
#include "model/model.hpp"
#include "model/tensors.hpp"

namespace moerecal::analysis {

enum class ExpertMatrix { kGateUp, kGate, kUp, kDown };

std::optional<ExpertMatrix> parse_expert_matrix(std::string_view s);
std::string_view expert_matrix_name(ExpertMatrix m);

struct ExpertOperand {
  ExpertOperand() = default;
  ExpertOperand(ExpertOperand&&) = default;  // moving keeps the buffers, so blocks stay valid
  ExpertOperand& operator=(ExpertOperand&&) = default;
  ExpertOperand(const ExpertOperand&) = delete;
  std::vector<float> first, second;  // storage behind `blocks`
  std::vector<linalg::MatrixBlock> blocks;
};

// Reads the matrices of expert `t` that `which` uses into `op`, reusing its buffers (experts of
// one model have the same shapes, so a layer-by-layer pass refills the same memory instead of
// allocating and clearing it). FormatError naming the tensor when unreadable.
void load_expert_operand(const model::MoeModel& m, const model::MlpTensors& t, ExpertMatrix which,
                         ExpertOperand& op);

// Every expert of MoE layer `layer` into `ops` (one per expert), read side by side on the
// backend's workers.
void load_operands(const model::MoeModel& m, int layer, ExpertMatrix which, linalg::Backend& be,
                   std::vector<ExpertOperand>& ops);

// The operator blocks of one expert for `which`, over matrices stored elsewhere (gate and up
// [width, hidden], down [hidden, width]); only the matrices `which` uses are read.
std::vector<linalg::MatrixBlock> expert_blocks(ExpertMatrix which, const float* gate,
                                               const float* up, const float* down, int width,
                                               int hidden);

// y = A x = sum_b op(W_b)^T (op(W_b) x), x and y of length cols (y is overwritten).
void apply_operator(linalg::Backend& be, const std::vector<linalg::MatrixBlock>& blocks,
                    const float* x, float* y);

}  // namespace moerecal::analysis
