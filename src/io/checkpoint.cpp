// Hugging Face checkpoint directory: config.json + model.safetensors or an index and its shards.
#include "io/checkpoint.hpp"

#include <algorithm>
#include <map>

#include "core/error.hpp"
#include "core/json_depth.hpp"
#include "core/text_file.hpp"

namespace moerecal::io {
namespace fs = std::filesystem;

nlohmann::json read_json_object(const fs::path& p) {
  const std::string text = read_text_file(p);
  require_json_depth(text, p.string());
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw FormatError(p.string() + ": not valid JSON");
  if (!j.is_object()) throw FormatError(p.string() + ": expected a JSON object");
  return j;
}
namespace {

// weight_map: tensor -> shard basename, validated.
std::map<std::string, std::string> read_weight_map(const fs::path& index, const nlohmann::json& j) {
  auto wm = j.find("weight_map");
  if (wm == j.end() || !wm->is_object()) {
    throw FormatError(index.string() +
                      ": key 'weight_map': expected an object of tensor name -> "
                      "shard file");
  }
  std::map<std::string, std::string> out;
  for (const auto& [name, file] : wm->items()) {
    if (!file.is_string()) {
      throw FormatError(index.string() + ": tensor '" + name +
                        "': expected a shard file name, "
                        "found " +
                        file.dump());
    }
    const std::string f = file.get<std::string>();
    if (f.size() > 255) {  // NAME_MAX: the file system would refuse to look it up
      throw FormatError(index.string() + ": tensor '" + name + "': shard name of " +
                        std::to_string(f.size()) + " bytes (expected a file name of at most 255)");
    }
    if (f.empty() || f.find_first_of(std::string("/\0", 2)) != std::string::npos || f == "." ||
        f == "..") {
      // Quoted as JSON: a control character in the name must not reach the terminal as is.
      throw FormatError(index.string() + ": tensor '" + name + "': shard " +
                        nlohmann::json(f).dump() + " is not a plain file name");
    }
    out[name] = f;
  }
  return out;
}

void fail_all(const std::vector<std::string>& problems) {
  if (!problems.empty()) throw FormatError(join_problems(problems));
}

}  // namespace

Checkpoint Checkpoint::open(const fs::path& dir) {
  Checkpoint c;
  c.dir_ = dir;
  if (!fs::is_directory(dir)) {
    throw FormatError(dir.string() +
                      ": not a checkpoint directory (expected a directory with "
                      "config.json and model.safetensors or model.safetensors.index.json)");
  }
  const fs::path config = dir / "config.json";
  if (!fs::exists(config)) throw FormatError(config.string() + ": missing (expected config.json)");
  c.config_ = read_json_object(config);
  const fs::path index = dir / "model.safetensors.index.json";
  if (fs::exists(index)) {
    c.open_sharded(index);
  } else if (fs::exists(dir / "model.safetensors")) {
    c.shards_.push_back(
        std::make_unique<SafetensorsFile>(SafetensorsFile::open(dir / "model.safetensors")));
    for (const TensorInfo& t : c.shards_[0]->tensors()) {
      c.by_name_.push_back({t.name, {c.shards_[0].get(), &t}});
    }
  } else {
    throw FormatError(dir.string() +
                      ": no weights (expected model.safetensors or "
                      "model.safetensors.index.json)");
  }
  std::sort(c.by_name_.begin(), c.by_name_.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return c;
}

void Checkpoint::open_sharded(const fs::path& index) {
  sharded_ = true;
  const nlohmann::json j = read_json_object(index);
  const std::map<std::string, std::string> wm = read_weight_map(index, j);
  std::map<std::string, SafetensorsFile*> files;
  std::vector<std::string> problems;
  for (const auto& [name, file] : wm) {
    if (files.count(file)) continue;
    const fs::path p = dir_ / file;
    std::error_code ec;
    if (!fs::exists(p, ec)) {
      problems.push_back(index.string() + ": tensor '" + name + "': shard '" + file +
                         "' not found in " + dir_.string());
      files[file] = nullptr;
      continue;
    }
    shards_.push_back(std::make_unique<SafetensorsFile>(SafetensorsFile::open(p)));
    files[file] = shards_.back().get();
  }
  fail_all(problems);
  check_index(index, j, wm, files);
}

void Checkpoint::check_index(const fs::path& index, const nlohmann::json& j,
                             const std::map<std::string, std::string>& wm,
                             const std::map<std::string, SafetensorsFile*>& files) {
  std::vector<std::string> problems;
  std::map<std::string, std::string> owner;  // tensor -> first shard holding it
  std::uint64_t total = 0;
  for (const auto& [file, shard] : files) {
    for (const TensorInfo& t : shard->tensors()) {
      total += t.nbytes();
      auto [it, fresh] = owner.emplace(t.name, file);
      if (!fresh) {
        problems.push_back(index.string() + ": tensor '" + t.name + "' is in two shards ('" +
                           it->second + "' and '" + file + "')");
      }
      auto w = wm.find(t.name);
      if (w == wm.end()) {
        problems.push_back(shard->path().string() + ": tensor '" + t.name + "' is not listed in " +
                           index.filename().string());
      } else if (w->second == file) {
        by_name_.push_back({t.name, {shard, &t}});
      }
    }
  }
  for (const auto& [name, file] : wm) {
    if (files.at(file)->find(name) == nullptr) {
      problems.push_back(index.string() + ": tensor '" + name + "' is mapped to '" + file +
                         "', which does not contain it");
    }
  }
  const auto meta = j.find("metadata");
  if (meta != j.end() && meta->is_object() && meta->contains("total_size")) {
    const auto& ts = (*meta)["total_size"];
    if (!ts.is_number_integer() || ts.get<std::uint64_t>() != total) {
      problems.push_back(index.string() + ": key 'metadata.total_size': found " + ts.dump() +
                         " (expected " + std::to_string(total) + ", the shards' payload bytes)");
    }
  }
  fail_all(problems);
}

TensorRef Checkpoint::find(std::string_view name) const {
  auto it = std::lower_bound(by_name_.begin(), by_name_.end(), name,
                             [](const auto& a, std::string_view n) { return a.first < n; });
  if (it == by_name_.end() || it->first != name) return {};
  return it->second;
}

TensorRef Checkpoint::get(std::string_view name) const {
  TensorRef r = find(name);
  if (r.file == nullptr) {
    throw FormatError(dir_.string() + ": tensor '" + std::string(name) +
                      "' not found in the checkpoint");
  }
  return r;
}

std::vector<float> Checkpoint::read_f32(std::string_view name) const {
  const TensorRef r = get(name);
  return r.file->read_f32(*r.info);
}

void Checkpoint::read_f32_into(std::string_view name, std::vector<float>& out) const {
  const TensorRef r = get(name);
  r.file->read_f32_into(*r.info, out);
}

std::vector<std::string> Checkpoint::tensor_names() const {
  std::vector<std::string> out;
  for (const auto& [n, r] : by_name_) out.push_back(n);
  return out;
}

std::uint64_t Checkpoint::payload_bytes() const {
  std::uint64_t total = 0;
  for (const auto& s : shards_) {
    for (const TensorInfo& t : s->tensors()) total += t.nbytes();
  }
  return total;
}

}  // namespace moerecal::io
