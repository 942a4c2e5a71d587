#include "engine/finite_check.hpp"

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "core/finite.hpp"
#include "model/tensors.hpp"

namespace moerecal::engine {
namespace {

struct Largest {
  std::string where;  // "<file>: tensor '<name>'"; empty when the layer has no float weight
  std::size_t element = 0;
  float value = 0.0f;
};

// The float weight of `layer` with the largest magnitude (F32/F16/BF16 tensors; others skipped).
Largest largest_weight(const model::MoeModel& m, int layer) {
  Largest best;
  std::vector<float> v;
  for (const std::string& name : m.ckpt.tensor_names()) {
    if (model::layer_of(name) != layer) continue;
    const io::TensorRef r = m.ckpt.get(name);
    if (!is_widenable(r.info->dtype)) continue;
    r.file->read_f32_into(*r.info, v);
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (best.where.empty() || std::abs(v[i]) > std::abs(best.value)) {
        best = {r.file->path().string() + ": tensor '" + name + "'", i, v[i]};
      }
    }
  }
  return best;
}

}  // namespace

void require_finite_activations(const model::MoeModel& m, int layer, const char* stage,
                                const float* v, std::size_t n) {
  if (first_non_finite(v, n) == n) return;
  const std::string what = "layer " + std::to_string(layer) + "'s " + stage +
                           " are not finite (expected weights that keep f32 activations finite)";
  const Largest w = largest_weight(m, layer);
  if (w.where.empty()) throw FormatError(m.ckpt.dir().string() + ": " + what);
  char value[32];
  std::snprintf(value, sizeof value, "%.6g", w.value);
  throw FormatError(w.where + ": element " + std::to_string(w.element) + " is " + value +
                    ", the largest weight of layer " + std::to_string(layer) + ", and " + what);
}

}  // namespace moerecal::engine
