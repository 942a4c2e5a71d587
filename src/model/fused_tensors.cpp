// Fused expert tensors of gpt-oss (ARCHITECTURES.md §7.2, §7.3, §13): one [E, ...] tensor per
// projection and layer. MXFP4 on disk: *_blocks U8 [E, out, in/32, 16] + *_scales U8 [E, out,
// in/32], rows in nn.Linear orientation; the BF16 form transformers saves after dequantising:
// [E, in, out]. gate_up interleaves its output features: 2j gate, 2j+1 up (biases too).
#include "model/spec.hpp"
#include "model/tensors.hpp"

namespace moerecal::model::naming {
namespace {

// Output features `rows` (every `step`-th from `offset`) of expert e's [out, in] projection.
MatrixRef projection(const ModelSpec& s, const std::string& name, int e, int out, int in, int rows,
                     int step, int offset) {
  const int E = s.n_experts();
  MatrixRef m;
  m.rows = rows;
  m.cols = in;
  m.slice = e;
  m.row_step = step;
  m.row_offset = offset;
  if (s.mxfp4) {
    m.tensor = {name + "_blocks", {E, out, in / 32, 16}, Stored::kBytes};
    m.scales = {name + "_scales", {E, out, in / 32}, Stored::kBytes};
  } else {
    m.tensor = {name, {E, in, out}};
    m.transposed = true;
  }
  return m;
}

MatrixRef bias(const ModelSpec& s, const std::string& name, int e, int n, int rows, int step,
               int offset) {
  MatrixRef m;
  m.tensor = {name, {s.n_experts(), n}};
  m.rows = rows;
  m.cols = 1;
  m.slice = e;
  m.row_step = step;
  m.row_offset = offset;
  return m;
}

}  // namespace

MlpTensors fused_expert(const ModelSpec& s, const std::string& prefix, int e) {
  const int d = s.hidden, I = s.expert_width;
  const std::string gu = prefix + "experts.gate_up_proj", dn = prefix + "experts.down_proj";
  MlpTensors m;
  m.width = I;
  m.gate = projection(s, gu, e, 2 * I, d, I, 2, 0);
  m.up = projection(s, gu, e, 2 * I, d, I, 2, 1);
  m.down = projection(s, dn, e, d, I, d, 1, 0);
  m.gate_bias = bias(s, gu + "_bias", e, 2 * I, I, 2, 0);
  m.up_bias = bias(s, gu + "_bias", e, 2 * I, I, 2, 1);
  m.down_bias = bias(s, dn + "_bias", e, d, d, 1, 0);
  return m;
}

}  // namespace moerecal::model::naming
