// moe-recal apply MODEL ROUTER.safetensors -o OUT: swap in any router version (rollback).
#include <cmath>
#include <iostream>

#include "cli/commands.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/sha256.hpp"
#include "report/changelog.hpp"
#include "report/output_checkpoint.hpp"

namespace moerecal::cli {
namespace {

// The payload of `name` from the router file in the checkpoint's dtype (converted if needed).
std::vector<std::byte> router_payload(const io::SafetensorsFile& f, const io::TensorInfo& want,
                                      std::vector<std::string>& notes) {
  const io::TensorInfo* t = f.find(want.name);
  if (t == nullptr) {
    throw FormatError(f.path().string() + ": tensor '" + want.name + "' not found (the model's " +
                      "router for this layer)");
  }
  if (t->shape != want.shape) {
    throw FormatError(f.path().string() + ": tensor '" + want.name + "': shape differs from the " +
                      "model's router");
  }
  std::vector<float> v = f.read_f32(*t);
  for (float x : v) {
    if (!std::isfinite(x)) {
      throw FormatError(f.path().string() + ": tensor '" + want.name + "': non-finite value");
    }
  }
  if (t->dtype == want.dtype) {
    const auto b = f.bytes(*t);
    return {b.begin(), b.end()};
  }
  notes.push_back(want.name + " converted from " + std::string(dtype_name(t->dtype)) + " to " +
                  std::string(dtype_name(want.dtype)) + " (round to nearest even)");
  std::vector<std::byte> out(want.nbytes());
  narrow_from_f32(want.dtype, v.data(), out.data(), v.size());
  return out;
}

}  // namespace

CLI::App* add_apply(CLI::App& app, ApplyCmd& c) {
  CLI::App* sub = app.add_subcommand(
      "apply", "Write MODEL with the routers of a router file swapped in (rollback, roll forward)");
  sub->add_option("MODEL", c.model, "Hugging Face checkpoint directory (read only)")->required();
  sub->add_option("ROUTER", c.router, "Router file, e.g. OUT/routers/router-v0.safetensors")
      ->required();
  sub->add_option("-o,--output", c.out, "Output checkpoint directory (must not exist)")->required();
  sub->add_flag("--force", c.force, "Replace an existing output directory");
  return sub;
}

int run_apply(const ApplyCmd& c, const GlobalOptions& g) {
  const model::MoeModel m = model::MoeModel::open(c.model);
  const io::SafetensorsFile f = io::SafetensorsFile::open(c.router);
  std::vector<std::string> notes;
  report::RouterPayloads payloads;
  for (int layer : m.spec.moe_layers) {
    const std::string name = model::router_tensor_name(m.spec, layer);
    payloads[name] = router_payload(f, *m.ckpt.get(name).info, notes);
  }
  if (f.tensors().size() != m.spec.moe_layers.size()) {
    throw FormatError(c.router.string() + ": holds " + std::to_string(f.tensors().size()) +
                      " tensors (expected exactly the " + std::to_string(m.spec.moe_layers.size()) +
                      " router tensors of the model)");
  }
  const auto meta = f.metadata();
  nlohmann::json source = {{"file", c.router.string()}, {"sha256", sha256_file(c.router)}};
  if (meta.count("moe_recal.router_version"))
    source["version"] = meta.at("moe_recal.router_version");
  if (meta.count("moe_recal.router_id")) source["router_id"] = meta.at("moe_recal.router_id");
  notes.push_back("experts and every non-router tensor are kept as they are");
  report::OutputWriter writer(m, c.out, c.force);
  const nlohmann::json entry = {
      {"action", "apply"},
      {"created_utc", report::utc_now()},
      {"tool", {{"name", "moe-recal"}, {"version", MOE_RECAL_VERSION}, {"backend", "none"}}},
      {"command", g.command_line},
      {"source", source},
      {"notes", notes}};
  const report::OutputResult res = writer.finish(payloads, entry);
  log::note("wrote " + c.out.string() + ": router v" + std::to_string(res.version) + " " +
            res.router_id + " from " + c.router.string());
  return kExitOk;
}

}  // namespace moerecal::cli
