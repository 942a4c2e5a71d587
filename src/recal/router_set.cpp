#include "recal/router_set.hpp"

#include <fstream>

#include "core/error.hpp"
#include "core/sha256.hpp"

namespace moerecal::recal {

std::vector<RouterLayer> load_routers(const model::MoeModel& m) {
  std::vector<RouterLayer> out;
  for (int layer : m.spec.moe_layers) {
    RouterLayer r;
    r.layer = layer;
    r.tensor = model::router_tensor_name(m.spec, layer);
    const io::TensorRef ref = m.ckpt.get(r.tensor);
    r.dtype = ref.info->dtype;
    r.n_experts = m.spec.n_experts;
    r.hidden = m.spec.hidden;
    r.rows = ref.file->read_f32(*ref.info);
    out.push_back(std::move(r));
  }
  return out;
}

std::string router_id(const model::MoeModel& m) {
  Sha256 h;
  for (int layer : m.spec.moe_layers) {
    const io::TensorRef ref = m.ckpt.get(model::router_tensor_name(m.spec, layer));
    h.update(ref.file->bytes(*ref.info));
  }
  return "sha256:" + h.hex();
}

nlohmann::json read_changelog_entries(const std::filesystem::path& dir) {
  const auto p = dir / "router-changelog.json";
  if (!std::filesystem::exists(p)) return nlohmann::json::array();
  std::ifstream in(p);
  nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("entries") || !j["entries"].is_array()) {
    throw FormatError(p.string() + ": expected a JSON object with an \"entries\" array");
  }
  return j["entries"];
}

int router_version(const std::filesystem::path& dir) {
  const nlohmann::json entries = read_changelog_entries(dir);
  if (entries.empty()) return 0;
  const std::filesystem::path p = dir / "router-changelog.json";
  const auto& last = entries.back();
  if (!last.is_object() || !last.contains("version") || !last["version"].is_number_integer()) {
    throw FormatError(p.string() + ": newest entry has no integer \"version\"");
  }
  return last["version"].get<int>();
}

}  // namespace moerecal::recal
