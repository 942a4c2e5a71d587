#include "model/family.hpp"

namespace moerecal::model {

extern const Family kMixtral, kOlmoe, kQwen2Moe, kQwen3Moe, kDeepseekV3, kDeepseekV2, kGlm4Moe,
    kGptOss;

const std::vector<const Family*>& families() {
  static const std::vector<const Family*> table = {
      &kMixtral, &kOlmoe, &kQwen2Moe, &kQwen3Moe, &kDeepseekV3, &kDeepseekV2, &kGlm4Moe, &kGptOss};
  return table;
}

std::string supported_model_types() {
  std::string out;
  for (const Family* f : families()) {
    for (std::string_view t : f->model_types) out += (out.empty() ? "" : ", ") + std::string(t);
  }
  return out;
}

}  // namespace moerecal::model
