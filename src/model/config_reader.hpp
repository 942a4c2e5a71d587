// Typed access to config.json keys with aliases and defaults. Every failure is a FormatError
// naming the config file and the key, with what was expected and what was found.
#pragma once

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace moerecal::model {

class ConfigReader {
 public:
  ConfigReader(const nlohmann::json& config, std::string_view label);

  // The first of `keys` present and non-null; throws when none is.
  int require_int(std::initializer_list<std::string_view> keys) const;
  int int_or(std::initializer_list<std::string_view> keys, int fallback) const;
  double number_or(std::string_view key, double fallback) const;
  bool bool_or(std::string_view key, bool fallback) const;
  std::vector<int> int_list_or(std::string_view key) const;
  std::string require_string(std::string_view key) const;
  std::string string_or(std::string_view key, std::string fallback) const;
  // "rope_theta", or transformers v5's "rope_parameters": {"rope_theta": ...}.
  double rope_theta_or(double fallback) const;
  // The object under `key`, or null when the key is absent or null; FormatError when it is
  // something else.
  const nlohmann::json* object_or_null(std::string_view key) const;
  // obj[key] of an object found under `where` (e.g. quantization_config.quant_method): the
  // fallback when absent or null, FormatError naming both keys when it has another type.
  std::string nested_string_or(const nlohmann::json& obj, std::string_view where,
                               std::string_view key, std::string fallback) const;
  double nested_number_or(const nlohmann::json& obj, std::string_view where, std::string_view key,
                          double fallback) const;
  const nlohmann::json& json() const { return config_; }
  std::string_view label() const { return label_; }

 private:
  const nlohmann::json* lookup(std::initializer_list<std::string_view> keys,
                               std::string* found_key) const;
  [[noreturn]] void fail(std::string_view key, std::string_view expected) const;

  const nlohmann::json& config_;
  std::string label_;
};

}  // namespace moerecal::model
