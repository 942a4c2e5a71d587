#include "lineage/router_id.hpp"

#include "core/error.hpp"
#include "core/json_depth.hpp"
#include "core/sha256.hpp"
#include "core/text_file.hpp"
#include "model/tensors.hpp"

namespace moerecal::lineage {

std::string router_id(const model::MoeModel& m, const RouterPayloads& replaced) {
  Sha256 h;
  for (const std::string& name : model::router_tensor_names(m.spec)) {
    auto it = replaced.find(name);
    if (it != replaced.end()) {
      h.update(it->second);
    } else {
      const io::TensorRef r = m.ckpt.get(name);
      h.update(r.file->bytes(*r.info));
    }
  }
  return "sha256:" + h.hex();
}

nlohmann::json read_changelog_entries(const std::filesystem::path& dir) {
  const auto p = dir / "router-changelog.json";
  if (!std::filesystem::exists(p)) return nlohmann::json::array();
  const std::string text = read_text_file(p);
  require_json_depth(text, p.string());
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
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

}  // namespace moerecal::lineage
