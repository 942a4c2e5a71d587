// Typed weight access: the one place a stored tensor (in any encoding the model supports) turns
// into f32. The engine, the MPI operator and the metrics ask for matrices and vectors through a
// WeightReader, so storage formats plug in here: F32, F16 and BF16 stored [out, in], and
// block-scaled F8_E4M3 with its weight_scale_inv sibling (W = fp8(W) * s[i / B0, j / B1]).
// Every value read is checked: a non-finite weight is a FormatError naming the file, the tensor
// and the element (bad input, exit 2), never a NaN passed on to the maths.
// Thread-safe: a WeightReader only reads the (immutable) checkpoint.
#pragma once

#include <vector>

#include "model/model.hpp"
#include "model/tensors.hpp"

namespace moerecal::model {

class WeightReader {
 public:
  explicit WeightReader(const MoeModel& m) : m_(m) {}

  // The whole matrix [rows, cols] into `out` (resized; a buffer of the right size is reused); an
  // empty ref clears `out`.
  void read(const MatrixRef& m, std::vector<float>& out) const;
  // Rows [row_begin, row_end) of the matrix into out[(row_end - row_begin) * cols]: a streamed
  // block, so a caller never has to widen a whole matrix at once.
  void read_rows(const MatrixRef& m, int row_begin, int row_end, float* out) const;
  // A stored tensor of any rank, flattened; an empty ref clears `out`.
  void read(const TensorRef& t, std::vector<float>& out) const;
  std::vector<float> read(const TensorRef& t) const;

  // Bytes of a tensor as stored, its scales included.
  std::uint64_t stored_bytes(const TensorRef& t) const;
  // Parameter bytes of one expert as stored: its matrices and biases (its share of fused
  // tensors), scales included.
  std::uint64_t expert_bytes(const MlpTensors& t) const;

 private:
  const MoeModel& m_;
};

}  // namespace moerecal::model
