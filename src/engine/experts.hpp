// The routed experts of one layer (DESIGN.md §5, memory): all widened to f32 and kept (resident)
// when they fit the memory budget, as for models up to Mixtral size; otherwise streamed: each
// expert is read through the typed weight access into a buffer of the thread that runs it, so at
// most one expert per worker is widened at a time (DeepSeek-V3: 45 GB of f32 experts per layer),
// or a group of them per worker within the same budget (with_group: the direction solves).
#pragma once

#include <cstddef>
#include <functional>
#include <vector>

#include "linalg/backend.hpp"
#include "model/model.hpp"
#include "model/tensors.hpp"

namespace moerecal::engine {

struct Mlp {
  std::vector<float> gate, up, down;                 // [w, d], [w, d], [d, w]
  std::vector<float> gate_bias, up_bias, down_bias;  // [w], [w], [d]; empty when none
  int width = 0;
};

// Which of an MLP's matrices to widen: all for a forward pass; the direction solves and power
// steps need only their operand's (gate and up for gate_up).
struct MlpParts {
  bool gate = true, up = true, down = true;
};

// One MLP's matrices (those of `parts`; the others left empty) and biases into `out` (buffers
// reused); an empty MLP clears `out`.
void load_mlp(const model::MoeModel& m, const model::MlpTensors& t, Mlp& out, MlpParts parts = {});

// Bytes of the f32 copies of an MLP's matrices (those of `parts`).
std::size_t mlp_f32_bytes(const model::MlpTensors& t, MlpParts parts = {});

// The default budget for resident experts (--expert-memory): 4 GiB.
inline constexpr std::size_t kDefaultExpertMemory = std::size_t(4) << 30;

class ExpertBank {
 public:
  // The experts of `t` (which must outlive the bank's use): widened now when their f32 size is
  // at most `budget_bytes` (on the backend's workers), else streamed on demand. Throws
  // FormatError naming the tensor (of the lowest expert index, as a sequential load would).
  void load(const model::MoeModel& m, linalg::Backend& be, const model::LayerTensors& t,
            std::size_t budget_bytes);
  int size() const { return t_ ? static_cast<int>(t_->moe.experts.size()) : 0; }
  bool resident() const { return resident_; }
  // fn(expert e's weights, valid during the call); concurrent calls for distinct e are safe.
  void with(int e, const std::function<void(const Mlp&)>& fn) const;
  // How many experts with_group() widens at once per worker: all of them when resident, else as
  // many as fit the budget on every worker at once (at least 1), counting the matrices of `parts`.
  int group_limit(MlpParts parts = {}) const;
  // fn(experts [first, first + count)'s weights, valid during the call), count <=
  // group_limit(parts); a streamed expert has only the matrices of `parts` (a resident one all).
  // Concurrent calls for disjoint ranges are safe; a streamed call from inside fn on the same
  // thread is not (it would refill the buffers fn reads) and asserts.
  void with_group(int first, int count, MlpParts parts,
                  const std::function<void(const std::vector<const Mlp*>&)>& fn) const;
  // Reads a streamed expert without running it (FormatError on a non-finite weight), so that a pass
  // routing no token to it checks its weights as loading a resident layer does.
  void check(int e) const;

 private:
  const model::MoeModel* m_ = nullptr;
  const model::LayerTensors* t_ = nullptr;
  std::vector<Mlp> experts_;
  bool resident_ = true;
  std::size_t budget_ = 0;
};

}  // namespace moerecal::engine
