// A Hugging Face checkpoint directory: config.json plus either model.safetensors or shards listed
// by model.safetensors.index.json. open() validates every shard and cross-checks the index against
// the shard headers (every indexed tensor present in the named shard, every shard tensor indexed,
// no tensor in two shards, no missing shard file). Read-only; thread-safe after open().
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "io/safetensors.hpp"

namespace moerecal::io {

struct TensorRef {
  const SafetensorsFile* file = nullptr;
  const TensorInfo* info = nullptr;
};

// A JSON file whose top level must be an object (config.json, the index, an eval report).
// Throws FormatError naming the file when it cannot be read, is not JSON or not an object.
nlohmann::json read_json_object(const std::filesystem::path& p);

class Checkpoint {
 public:
  // Throws FormatError naming the file (config.json, the index, a shard) and key/tensor at fault.
  static Checkpoint open(const std::filesystem::path& dir);

  const std::filesystem::path& dir() const { return dir_; }
  const nlohmann::json& config() const { return config_; }
  bool sharded() const { return sharded_; }
  // Shards in index order of first appearance (one entry when unsharded).
  const std::vector<std::unique_ptr<SafetensorsFile>>& shards() const { return shards_; }

  // nullptr-file ref when absent.
  TensorRef find(std::string_view name) const;
  // Throws FormatError "<dir>: tensor '<name>' not found" when absent.
  TensorRef get(std::string_view name) const;
  std::vector<float> read_f32(std::string_view name) const;
  void read_f32_into(std::string_view name, std::vector<float>& out) const;
  // Every tensor name, sorted.
  std::vector<std::string> tensor_names() const;
  // Sum of tensor payload bytes over all shards.
  std::uint64_t payload_bytes() const;

 private:
  void open_sharded(const std::filesystem::path& index);
  void check_index(const std::filesystem::path& index, const nlohmann::json& j,
                   const std::map<std::string, std::string>& weight_map,
                   const std::map<std::string, SafetensorsFile*>& files);

  std::filesystem::path dir_;
  nlohmann::json config_;
  bool sharded_ = false;
  std::vector<std::unique_ptr<SafetensorsFile>> shards_;
  std::vector<std::pair<std::string, TensorRef>> by_name_;  // sorted by name
};

}  // namespace moerecal::io
