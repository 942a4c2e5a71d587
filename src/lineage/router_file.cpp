#include "lineage/router_file.hpp"

#include <cmath>

#include "core/error.hpp"
#include "core/sha256.hpp"
#include "model/tensors.hpp"

namespace moerecal::lineage {
namespace {

// The payload of `want` from the router file in the checkpoint's dtype (converted if needed).
std::vector<std::byte> payload_of(const io::SafetensorsFile& f, const io::TensorInfo& want,
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
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) {
      throw FormatError(f.path().string() + ": tensor '" + want.name + "': element " +
                        std::to_string(i) + " is " + std::to_string(v[i]) +
                        " (expected finite router weights)");
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

void write_router_file(const model::MoeModel& m, const std::filesystem::path& file, int version,
                       const std::string& id, const RouterPayloads& replaced) {
  std::vector<io::TensorToWrite> ts;
  for (const std::string& name : model::router_tensor_names(m.spec)) {
    const io::TensorRef r = m.ckpt.get(name);
    auto it = replaced.find(name);
    const std::span<const std::byte> bytes =
        it != replaced.end() ? std::span<const std::byte>(it->second) : r.file->bytes(*r.info);
    ts.push_back({name, r.info->dtype, r.info->shape, bytes});
  }
  io::write_safetensors(file, ts,
                        {{"format", "pt"},
                         {"moe_recal.router_version", std::to_string(version)},
                         {"moe_recal.router_id", id},
                         {"moe_recal.model_type", m.spec.model_type}});
}

RouterPayloads read_router_file(const model::MoeModel& m, const io::SafetensorsFile& f,
                                std::vector<std::string>& notes) {
  RouterPayloads payloads;
  const std::vector<std::string> names = model::router_tensor_names(m.spec);
  for (const std::string& name : names) {
    payloads[name] = payload_of(f, *m.ckpt.get(name).info, notes);
  }
  if (f.tensors().size() != names.size()) {
    throw FormatError(f.path().string() + ": holds " + std::to_string(f.tensors().size()) +
                      " tensors (expected exactly the " + std::to_string(names.size()) +
                      " router tensors of the model)");
  }
  return payloads;
}

nlohmann::json router_file_source(const io::SafetensorsFile& f) {
  const auto& meta = f.metadata();
  nlohmann::json source = {{"file", f.path().string()}, {"sha256", sha256_file(f.path())}};
  if (meta.count("moe_recal.router_version")) {
    source["version"] = meta.at("moe_recal.router_version");
  }
  if (meta.count("moe_recal.router_id")) source["router_id"] = meta.at("moe_recal.router_id");
  return source;
}

}  // namespace moerecal::lineage
