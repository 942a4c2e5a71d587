// Gate rules and a saved eval report: the first line of the input is the --gate argument, the
// rest the report; rules parsed, the report checked as `moe-recal gate` does, then evaluated.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "core/error.hpp"
#include "fuzz_util.hpp"
#include "report/gate.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace moerecal;
  const auto [rules_text, report_text] = fuzz::split_once(fuzz::as_text(data, size), "\n");
  try {
    const auto rules = report::parse_gate_rules({std::string(rules_text)});
    const nlohmann::json r = nlohmann::json::parse(report_text, nullptr, false);
    if (r.is_discarded() || !r.is_object() || !r.contains("metrics") || !r["metrics"].is_object())
      return 0;
    const nlohmann::json verdict =
        report::evaluate_gate(rules, r["metrics"], r.contains("slices") ? r["slices"] : nullptr);
    (void)report::gate_text(verdict);
    if (!verdict["pass"].is_boolean()) __builtin_trap();
  } catch (const Error&) {
  }
  return 0;
}
