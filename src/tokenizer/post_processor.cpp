#include "tokenizer/post_processor.hpp"

#include "core/error.hpp"
#include "tokenizer/spec.hpp"

namespace moerecal::tokenizer {
namespace {

std::vector<int> special_ids(const nlohmann::json& specials, const std::string& name,
                             const std::string& at) {
  if (!specials.is_object() || !specials.contains(name)) {
    throw FormatError(at + ": special token \"" + name + "\" not in \"special_tokens\"");
  }
  return field(specials[name], "ids", at).get<std::vector<int>>();
}

SpecialAround read_template(const nlohmann::json& j, const std::string& at) {
  SpecialAround a;
  bool seen_sequence = false;
  for (const nlohmann::json& item : field(j, "single", at)) {
    if (item.contains("Sequence")) {
      seen_sequence = true;
    } else if (item.contains("SpecialToken")) {
      const std::string name = string_field(item["SpecialToken"], "id", at);
      const std::vector<int> ids =
          special_ids(j.value("special_tokens", nlohmann::json()), name, at);
      std::vector<int>& dst = seen_sequence ? a.suffix : a.prefix;
      dst.insert(dst.end(), ids.begin(), ids.end());
    } else {
      unsupported(at + " single item", item.dump());
    }
  }
  return a;
}

int pair_id(const nlohmann::json& j, const char* key, const std::string& at) {
  const nlohmann::json& v = field(j, key, at);
  if (!v.is_array() || v.size() != 2 || !v[1].is_number_integer()) {
    throw FormatError(at + ": \"" + key + "\": expected [token, id], found " + v.dump());
  }
  return v[1].get<int>();
}

}  // namespace

SpecialAround read_post_processor(const nlohmann::json& j, const std::string& where) {
  if (j.is_null()) return {};
  const std::string at = where + ": post_processor";
  const std::string type = string_field(j, "type", at);
  if (type == "ByteLevel") return {};
  if (type == "TemplateProcessing") return read_template(j, at + " TemplateProcessing");
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    return {{pair_id(j, "cls", at)}, {pair_id(j, "sep", at)}};
  }
  if (type == "Sequence") {
    SpecialAround all;
    for (const nlohmann::json& p : field(j, "processors", at)) {
      SpecialAround one = read_post_processor(p, where);
      one.prefix.insert(one.prefix.end(), all.prefix.begin(), all.prefix.end());
      all.prefix = std::move(one.prefix);
      all.suffix.insert(all.suffix.end(), one.suffix.begin(), one.suffix.end());
    }
    return all;
  }
  unsupported(at + " type", type);
}

std::string config_token(const nlohmann::json& config, const char* key) {
  if (!config.is_object() || !config.contains(key)) return "";
  const nlohmann::json& v = config[key];
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("content") && v["content"].is_string())
    return v["content"].get<std::string>();
  return "";
}

}  // namespace moerecal::tokenizer
