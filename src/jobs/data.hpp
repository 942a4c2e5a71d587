// Token data for the jobs that read --data: text records and .txt files are tokenized with the
// model's tokenizer.json, loaded only when the first text record needs it.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "io/token_data.hpp"
#include "jobs/jobs.hpp"
#include "tokenizer/tokenizer.hpp"

namespace moerecal::jobs {

// io::TextEncoder over the tokenizer of `model` (a directory or a tokenizer.json), loaded on the
// first encode(). Not thread-safe.
class ModelTextEncoder : public io::TextEncoder {
 public:
  explicit ModelTextEncoder(std::filesystem::path model) : model_(std::move(model)) {}
  std::vector<int> encode(std::string_view text, const std::string& where,
                          std::size_t base) override;
  std::string name() const override;
  std::string sha256() const override;
  const tokenizer::Tokenizer& get();

 private:
  std::filesystem::path model_;
  std::optional<tokenizer::Tokenizer> tok_;
};

// A data file read and windowed for a model: every id checked against its vocabulary.
struct Data {
  io::TokenData tokens;
  std::vector<std::vector<int>> windows;  // the windows' ids
};
Data load_data(const std::filesystem::path& model, const DataRequest& d, int vocab);

// {"path", "sha256", "text_records"} of the tokenizer used, or null when every record gave
// input_ids.
nlohmann::json tokenizer_json(const io::TokenData& d);

}  // namespace moerecal::jobs
