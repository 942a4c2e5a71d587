#include "recal/expert_operand.hpp"

#include <algorithm>
#include <array>

#include "core/error.hpp"

namespace moerecal::recal {
namespace {

constexpr std::array<std::string_view, 4> kNames = {"gate_up", "gate", "up", "down"};

}  // namespace

std::optional<ExpertMatrix> parse_expert_matrix(std::string_view s) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == s) return static_cast<ExpertMatrix>(i);
  }
  return std::nullopt;
}

std::string_view expert_matrix_name(ExpertMatrix m) { return kNames[static_cast<int>(m)]; }

ExpertOperand load_expert_operand(const model::MoeModel& m, int layer, int expert,
                                  ExpertMatrix which) {
  ExpertOperand op;
  load_expert_operand(m, layer, expert, which, op);
  return op;
}

void load_expert_operand(const model::MoeModel& m, int layer, int expert, ExpertMatrix which,
                         ExpertOperand& op) {
  const int d = m.spec.hidden, w = m.spec.expert_width;
  const model::ExpertTensorNames n = model::expert_tensor_names(m.spec, layer, expert);
  op.blocks.clear();
  if (which == ExpertMatrix::kDown) {
    m.ckpt.read_f32_into(n.down, op.first);  // stored [d, w]; op(W) = W^T is [w, d]
    op.blocks.push_back({op.first.data(), w, d, true});
    return;
  }
  m.ckpt.read_f32_into(which == ExpertMatrix::kUp ? n.up : n.gate, op.first);
  op.blocks.push_back({op.first.data(), w, d, false});
  if (which == ExpertMatrix::kGateUp) {
    m.ckpt.read_f32_into(n.up, op.second);
    op.blocks.push_back({op.second.data(), w, d, false});
  }
}

void apply_operator(linalg::Backend& be, const std::vector<linalg::MatrixBlock>& blocks,
                    const float* x, float* y) {
  MR_ASSERT(!blocks.empty());
  const int cols = blocks[0].cols;
  std::fill(y, y + cols, 0.0f);
  std::vector<float> t;
  for (const linalg::MatrixBlock& b : blocks) {
    t.assign(b.rows, 0.0f);
    // stored matrix: [rows, cols] (op = W) or [cols, rows] (op = W^T)
    const linalg::Trans fwd = b.transposed ? linalg::Trans::kYes : linalg::Trans::kNo;
    const linalg::Trans back = b.transposed ? linalg::Trans::kNo : linalg::Trans::kYes;
    const int ld = b.transposed ? b.rows : b.cols;
    be.gemm(fwd, linalg::Trans::kNo, b.rows, 1, cols, 1.0f, b.data, ld, x, 1, 0.0f, t.data(), 1);
    be.gemm(back, linalg::Trans::kNo, cols, 1, b.rows, 1.0f, b.data, ld, t.data(), 1, 1.0f, y, 1);
  }
}

}  // namespace moerecal::recal
