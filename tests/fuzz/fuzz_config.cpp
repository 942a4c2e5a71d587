// config.json -> the family's ModelSpec, then the tensor names and shapes the spec implies for the
// first and last layer (what check_checkpoint compares against the headers).
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>

#include "core/error.hpp"
#include "fuzz_util.hpp"
#include "model/model.hpp"
#include "model/tensors.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace moerecal;
  const auto text = fuzz::as_text(data, size);
  const nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return 0;
  try {
    const model::ModelSpec spec = model::parse_config(j, "config.json");
    if (spec.n_layers > 0) {
      (void)model::layer_tensors(spec, 0);
      (void)model::layer_tensors(spec, spec.n_layers - 1);
    }
  } catch (const Error&) {
  }
  return 0;
}
