// Special tokens put around one sequence: the "post_processor" of tokenizer.json
// (TemplateProcessing, RobertaProcessing, BertProcessing, ByteLevel, Sequence), then
// tokenizer_config.json's add_bos_token / add_eos_token where they are set, as transformers'
// Llama-style tokenizers rebuild the template from them.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace moerecal::tokenizer {

struct SpecialAround {
  std::vector<int> prefix, suffix;
};

// Throws FormatError naming `where` for an unsupported processor type.
SpecialAround read_post_processor(const nlohmann::json& j, const std::string& where);

// Applies add_bos_token / add_eos_token of `config` (tokenizer_config.json, may be null);
// `token_id` maps a token string to its id (-1 when unknown).
template <class IdOf>
void apply_config_flags(const nlohmann::json& config, IdOf token_id, SpecialAround& around);

// The token string of a tokenizer_config entry ("<s>" or {"content": "<s>", ...}), "" if none.
std::string config_token(const nlohmann::json& config, const char* key);

}  // namespace moerecal::tokenizer

template <class IdOf>
void moerecal::tokenizer::apply_config_flags(const nlohmann::json& config, IdOf token_id,
                                             SpecialAround& around) {
  if (!config.is_object()) return;
  const auto flag = [&](const char* key, const char* token, std::vector<int>& ids, bool front) {
    if (!config.contains(key) || !config[key].is_boolean()) return;
    const int id = token_id(config_token(config, token));
    if (id < 0) return;
    const bool has = !ids.empty() && (front ? ids.front() : ids.back()) == id;
    if (config[key].get<bool>() && !has) ids.insert(front ? ids.begin() : ids.end(), id);
    if (!config[key].get<bool>() && has) ids.erase(front ? ids.begin() : ids.end() - 1);
  };
  flag("add_bos_token", "bos_token", around.prefix, true);
  flag("add_eos_token", "eos_token", around.suffix, false);
}
