// safetensors writer following the reference implementation's conventions.
#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.hpp"
#include "io/safetensors.hpp"
#include "io/staged_dir.hpp"

namespace moerecal::io {
namespace {

// The tensors, each checked: unique name, payload size matching dtype and shape.
std::vector<const TensorToWrite*> checked_order(const std::vector<TensorToWrite>& tensors) {
  std::vector<const TensorToWrite*> order;
  std::set<std::string> names;
  for (const TensorToWrite& t : tensors) {
    if (!names.insert(t.name).second)
      throw UsageError("safetensors: duplicate tensor '" + t.name + "'");
    unsigned __int128 bits = static_cast<unsigned>(dtype_bits(t.dtype));
    for (std::int64_t d : t.shape) bits *= static_cast<std::uint64_t>(d);
    if (bits % 8 != 0 || bits / 8 != t.data.size()) {
      throw UsageError("safetensors: tensor '" + t.name + "': " + std::to_string(t.data.size()) +
                       " bytes do not match its dtype and shape");
    }
    order.push_back(&t);
  }
  return order;
}

}  // namespace

std::vector<std::byte> serialize_safetensors(const std::vector<TensorToWrite>& tensors,
                                             const std::map<std::string, std::string>& metadata) {
  std::vector<const TensorToWrite*> order = checked_order(tensors);
  // Descending alignment (element size), then name; like the reference writer.
  std::stable_sort(order.begin(), order.end(), [](const TensorToWrite* a, const TensorToWrite* b) {
    const int ba = dtype_bits(a->dtype), bb = dtype_bits(b->dtype);
    return ba != bb ? ba > bb : a->name < b->name;
  });
  // nlohmann's ordered_json keeps insertion order: __metadata__ first, then tensors by offset.
  nlohmann::ordered_json header;
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::uint64_t offset = 0;
  for (const TensorToWrite* t : order) {
    header[t->name] = {{"dtype", std::string(dtype_name(t->dtype))},
                       {"shape", t->shape},
                       {"data_offsets", {offset, offset + t->data.size()}}};
    offset += t->data.size();
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  std::vector<std::byte> out(8 + text.size() + offset);
  const std::uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::byte>((n >> (8 * i)) & 0xff);
  std::memcpy(out.data() + 8, text.data(), text.size());
  std::size_t pos = 8 + text.size();
  for (const TensorToWrite* t : order) {
    if (!t->data.empty()) std::memcpy(out.data() + pos, t->data.data(), t->data.size());
    pos += t->data.size();
  }
  return out;
}

void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  const std::vector<std::byte> bytes = serialize_safetensors(tensors, metadata);
  write_file(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

}  // namespace moerecal::io
