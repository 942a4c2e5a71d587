#include "model/config_reader.hpp"

#include "core/error.hpp"

namespace moerecal::model {
namespace {

std::string describe(const nlohmann::json& v) {
  std::string s = v.dump();
  if (s.size() > 40) s = s.substr(0, 37) + "...";
  return std::string(v.type_name()) + " " + s;
}

}  // namespace

ConfigReader::ConfigReader(const nlohmann::json& config, std::string_view label)
    : config_(config), label_(label) {
  if (!config_.is_object()) {
    throw FormatError(label_ + ": expected a JSON object, found " + describe(config_));
  }
}

const nlohmann::json* ConfigReader::lookup(std::initializer_list<std::string_view> keys,
                                           std::string* found_key) const {
  for (std::string_view k : keys) {
    auto it = config_.find(std::string(k));
    if (it != config_.end() && !it->is_null()) {
      *found_key = std::string(k);
      return &*it;
    }
  }
  return nullptr;
}

void ConfigReader::fail(std::string_view key, std::string_view expected) const {
  auto it = config_.find(std::string(key));
  const std::string found = it == config_.end() ? "nothing" : describe(*it);
  throw FormatError(label_ + ": key '" + std::string(key) + "': expected " + std::string(expected) +
                    ", found " + found);
}

int ConfigReader::require_int(std::initializer_list<std::string_view> keys) const {
  std::string key;
  const nlohmann::json* v = lookup(keys, &key);
  if (v == nullptr) {
    std::string names;
    for (std::string_view k : keys) names += (names.empty() ? "'" : " or '") + std::string(k) + "'";
    throw FormatError(label_ + ": missing key " + names + " (expected a positive integer)");
  }
  if (!v->is_number_integer() || v->get<long long>() < 0 || v->get<long long>() > (1 << 30)) {
    fail(key, "a non-negative integer");
  }
  return v->get<int>();
}

int ConfigReader::int_or(std::initializer_list<std::string_view> keys, int fallback) const {
  std::string key;
  if (lookup(keys, &key) == nullptr) return fallback;
  return require_int(keys);
}

double ConfigReader::number_or(std::string_view key, double fallback) const {
  std::string found;
  const nlohmann::json* v = lookup({key}, &found);
  if (v == nullptr) return fallback;
  if (!v->is_number()) fail(key, "a number");
  return v->get<double>();
}

bool ConfigReader::bool_or(std::string_view key, bool fallback) const {
  std::string found;
  const nlohmann::json* v = lookup({key}, &found);
  if (v == nullptr) return fallback;
  if (!v->is_boolean()) fail(key, "true or false");
  return v->get<bool>();
}

std::vector<int> ConfigReader::int_list_or(std::string_view key) const {
  std::string found;
  const nlohmann::json* v = lookup({key}, &found);
  std::vector<int> out;
  if (v == nullptr) return out;
  if (!v->is_array()) fail(key, "a list of integers");
  for (const auto& x : *v) {
    if (!x.is_number_integer() || x.get<long long>() < 0) fail(key, "a list of integers");
    out.push_back(x.get<int>());
  }
  return out;
}

std::string ConfigReader::require_string(std::string_view key) const {
  std::string found;
  const nlohmann::json* v = lookup({key}, &found);
  if (v == nullptr) throw FormatError(label_ + ": missing key '" + std::string(key) + "'");
  if (!v->is_string()) fail(key, "a string");
  return v->get<std::string>();
}

std::string ConfigReader::string_or(std::string_view key, std::string fallback) const {
  std::string found;
  if (lookup({key}, &found) == nullptr) return fallback;
  return require_string(key);
}

double ConfigReader::rope_theta_or(double fallback) const {
  auto it = config_.find("rope_parameters");
  if (it != config_.end() && it->is_object() && it->contains("rope_theta")) {
    const nlohmann::json& v = (*it)["rope_theta"];
    if (!v.is_number()) fail("rope_parameters", "a number under \"rope_theta\"");
    return v.get<double>();
  }
  return number_or("rope_theta", fallback);
}

namespace {

const nlohmann::json* nested(const nlohmann::json& obj, std::string_view key) {
  const auto it = obj.find(key);
  return it == obj.end() || it->is_null() ? nullptr : &*it;
}

}  // namespace

std::string ConfigReader::nested_string_or(const nlohmann::json& obj, std::string_view where,
                                           std::string_view key, std::string fallback) const {
  const nlohmann::json* v = nested(obj, key);
  if (v == nullptr) return fallback;
  if (!v->is_string()) {
    throw FormatError(label_ + ": key '" + std::string(where) + "': \"" + std::string(key) +
                      "\": expected a string, found " + v->dump());
  }
  return v->get<std::string>();
}

double ConfigReader::nested_number_or(const nlohmann::json& obj, std::string_view where,
                                      std::string_view key, double fallback) const {
  const nlohmann::json* v = nested(obj, key);
  if (v == nullptr) return fallback;
  if (!v->is_number()) {
    throw FormatError(label_ + ": key '" + std::string(where) + "': \"" + std::string(key) +
                      "\": expected a number, found " + v->dump());
  }
  return v->get<double>();
}

const nlohmann::json* ConfigReader::object_or_null(std::string_view key) const {
  std::string found;
  const nlohmann::json* v = lookup({key}, &found);
  if (v != nullptr && !v->is_object()) fail(key, "an object or null");
  return v;
}

}  // namespace moerecal::model
