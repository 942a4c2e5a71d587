#include "jobs/data.hpp"

#include "core/error.hpp"

namespace moerecal::jobs {

const tokenizer::Tokenizer& ModelTextEncoder::get() {
  if (!tok_) tok_.emplace(tokenizer::Tokenizer::load(model_));
  return *tok_;
}

std::vector<int> ModelTextEncoder::encode(std::string_view text, const std::string& where,
                                          std::size_t base) {
  if (!tok_) {
    try {
      get();
    } catch (const FormatError& e) {  // name the record that needed the tokenizer
      throw FormatError(where + ": " + e.what());
    }
  }
  return tok_->encode(text, where, base);
}

std::string ModelTextEncoder::name() const { return tok_ ? tok_->path().string() : ""; }
std::string ModelTextEncoder::sha256() const { return tok_ ? tok_->sha256() : ""; }

Data load_data(const std::filesystem::path& model, const DataRequest& d, int vocab) {
  ModelTextEncoder encoder(model);
  Data out{io::read_token_data(d.file, d.ctx, d.max_tokens, &encoder), {}};
  io::check_vocab(out.tokens, vocab);
  for (const auto& w : out.tokens.windows) out.windows.push_back(w.ids);
  return out;
}

nlohmann::json tokenizer_json(const io::TokenData& d) {
  if (d.tokenizer.empty()) return nullptr;
  return {{"path", d.tokenizer}, {"sha256", d.tokenizer_sha256}, {"text_records", d.text_records}};
}

}  // namespace moerecal::jobs
