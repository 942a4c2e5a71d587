// One expert's matrix W_e for an --expert-matrix choice as the blocks of the operator
// A_e = W_e^T W_e (DESIGN.md §1). gate_up is gate stacked on up; down contributes down_e down_e^T
// (its left singular direction). An OperandSource hands out one expert's blocks at a time, so a
// layer's experts never need to be widened all at once: ModelOperands reads an expert from the
// checkpoint (through the typed weight access) into a buffer of the calling thread.
#pragma once

#include <functional>
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

using Blocks = std::vector<linalg::MatrixBlock>;

// The experts of one layer as operator blocks. with() may be called concurrently for distinct
// experts; the blocks are valid during the call only.
class OperandSource {
 public:
  virtual ~OperandSource() = default;
  virtual int size() const = 0;
  virtual void with(int expert, const std::function<void(const Blocks&)>& fn) const = 0;
  // How many experts with_group() hands out at once per worker (1: one at a time).
  virtual int group_limit() const { return 1; }
  // fn(the blocks of experts [first, first + count)), valid during the call; count <=
  // group_limit(). Concurrent calls for disjoint ranges are safe.
  virtual void with_group(int first, int count,
                          const std::function<void(const std::vector<Blocks>&)>& fn) const;
};

// Streams each expert of MoE layer `layer` from the checkpoint, widened into a buffer of the
// calling thread (one expert per thread resident). FormatError naming the tensor when unreadable.
class ModelOperands final : public OperandSource {
 public:
  ModelOperands(const model::MoeModel& m, int layer, ExpertMatrix which);
  int size() const override { return static_cast<int>(tensors_.moe.experts.size()); }
  void with(int expert, const std::function<void(const Blocks&)>& fn) const override;

 private:
  const model::MoeModel& m_;
  model::LayerTensors tensors_;
  ExpertMatrix which_;
};

// Operands over matrices widened elsewhere (blocks[e] for expert e).
class BlockOperands final : public OperandSource {
 public:
  explicit BlockOperands(std::vector<Blocks> blocks) : blocks_(std::move(blocks)) {}
  int size() const override { return static_cast<int>(blocks_.size()); }
  void with(int expert, const std::function<void(const Blocks&)>& fn) const override {
    fn(blocks_[expert]);
  }
  int group_limit() const override { return size(); }
  void with_group(int first, int count,
                  const std::function<void(const std::vector<Blocks>&)>& fn) const override {
    fn(std::vector<Blocks>(blocks_.begin() + first, blocks_.begin() + first + count));
  }

 private:
  std::vector<Blocks> blocks_;
};

// The operator blocks of one expert for `which`, over matrices stored elsewhere (gate and up
// [width, hidden], down [hidden, width]); only the matrices `which` uses are read.
Blocks expert_blocks(ExpertMatrix which, const float* gate, const float* up, const float* down,
                     int width, int hidden);

// y = A x = sum_b op(W_b)^T (op(W_b) x), x and y of length cols (y is overwritten), every product
// and sum in f64 (the power steps).
void apply_operator(linalg::Backend& be, const Blocks& blocks, const double* x, double* y);

}  // namespace moerecal::analysis
