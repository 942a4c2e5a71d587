// Small hand-made tokenizer.json files written to a temporary directory for the unit tests.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "tokenizer/tokenizer.hpp"

namespace moerecal::test {

// A BPE model over the given vocab (token -> id) and merges ("a b"), no normalizer or
// pre-tokenizer; tests set the other keys.
inline nlohmann::json bpe_json(const nlohmann::json& vocab, const nlohmann::json& merges) {
  return {{"version", "1.0"},
          {"added_tokens", nlohmann::json::array()},
          {"normalizer", nullptr},
          {"pre_tokenizer", nullptr},
          {"post_processor", nullptr},
          {"model",
           {{"type", "BPE"},
            {"dropout", nullptr},
            {"unk_token", nullptr},
            {"vocab", vocab},
            {"merges", merges}}}};
}

// Writes tokenizer.json (and tokenizer_config.json when given) to a fresh directory.
class TokDir {
 public:
  explicit TokDir(const nlohmann::json& tok, const nlohmann::json& config = nullptr) {
    static int n = 0;
    dir_ = std::filesystem::temp_directory_path() /
           ("mr-tok-" + std::to_string(::getpid()) + "-" + std::to_string(n++));
    std::filesystem::create_directories(dir_);
    std::ofstream(dir_ / "tokenizer.json") << tok.dump();
    if (!config.is_null()) std::ofstream(dir_ / "tokenizer_config.json") << config.dump();
  }
  ~TokDir() { std::filesystem::remove_all(dir_); }
  tokenizer::Tokenizer load() const { return tokenizer::Tokenizer::load(dir_); }
  const std::filesystem::path& path() const { return dir_; }

 private:
  std::filesystem::path dir_;
};

}  // namespace moerecal::test
