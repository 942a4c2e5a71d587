#include "analysis/expert_operand.hpp"

#include <algorithm>
#include <array>

#include "core/error.hpp"
#include "model/weights.hpp"

namespace moerecal::analysis {
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

void OperandSource::with_group(int first, int count,
                               const std::function<void(const std::vector<Blocks>&)>& fn) const {
  MR_ASSERT(count == 1);
  with(first, [&](const Blocks& blocks) { fn({blocks}); });
}

ModelOperands::ModelOperands(const model::MoeModel& m, int layer, ExpertMatrix which)
    : m_(m), tensors_(model::layer_tensors(m.spec, layer)), which_(which) {}

void ModelOperands::with(int expert, const std::function<void(const Blocks&)>& fn) const {
  // The buffers of this thread, reused expert after expert (experts of one model have the same
  // shapes, so they are refilled, not reallocated).
  thread_local std::vector<float> first, second;
  const model::MlpTensors& t = tensors_.moe.experts[expert];
  const model::WeightReader reader(m_);
  // Only the matrices the choice needs: first = down, up or gate; second = up for gate_up.
  const model::MatrixRef& m = which_ == ExpertMatrix::kDown ? t.down
                              : which_ == ExpertMatrix::kUp ? t.up
                                                            : t.gate;
  reader.read(m, first);
  if (which_ == ExpertMatrix::kGateUp) reader.read(t.up, second);
  const float* f = first.data();  // whichever single matrix the choice reads
  fn(expert_blocks(which_, f, which_ == ExpertMatrix::kGateUp ? second.data() : f, f, t.width,
                   m_.spec.hidden));
}

Blocks expert_blocks(ExpertMatrix which, const float* gate, const float* up, const float* down,
                     int width, int hidden) {
  switch (which) {
    case ExpertMatrix::kDown:  // stored [d, w]; op(W) = W^T is [w, d]
      return {{down, width, hidden, true}};
    case ExpertMatrix::kGate:
      return {{gate, width, hidden, false}};
    case ExpertMatrix::kUp:
      return {{up, width, hidden, false}};
    case ExpertMatrix::kGateUp:
      break;
  }
  return {{gate, width, hidden, false}, {up, width, hidden, false}};
}

void apply_operator(linalg::Backend& be, const Blocks& blocks, const double* x, double* y) {
  MR_ASSERT(!blocks.empty());
  const int cols = blocks[0].cols;
  std::fill(y, y + cols, 0.0);
  for (const linalg::MatrixBlock& b : blocks) {
    be.gram_accumulate_f64(b.data, b.rows, cols, b.transposed, x, y);
  }
}

}  // namespace moerecal::analysis
