// perplexity: the model's perplexity on token data (DESIGN.md §4).
#include "engine/perplexity.hpp"

#include "jobs/data.hpp"
#include "jobs/jobs.hpp"
#include "jobs/progress.hpp"

namespace moerecal::jobs {

nlohmann::json perplexity(const PerplexityRequest& r, const Context& ctx) {
  const model::MoeModel m = model::MoeModel::open(r.model);
  const Data d = load_data(r.model, r.data, m.spec.vocab);
  const std::unique_ptr<linalg::Backend> be = linalg::make_backend(ctx.device);
  engine::Perplexity p;
  {
    Progress progress("perplexity", d.tokens.tokens);  // erased before the report prints
    engine::ForwardOptions fo;
    fo.on_layer = std::ref(progress);
    fo.expert_memory = ctx.expert_memory;
    p = engine::perplexity(m, *be, d.windows, fo);
  }
  return {{"schema_version", 1},
          {"ppl", p.ppl()},
          {"nll_mean", p.nll_mean()},
          {"n_tokens_scored", p.n_scored},
          {"n_sequences", d.tokens.records},
          {"n_windows", d.windows.size()},
          {"ctx", d.tokens.ctx},
          {"data_sha256", d.tokens.sha256},
          {"tokenizer", tokenizer_json(d.tokens)}};
}

std::string tokenize(const std::filesystem::path& model, const std::filesystem::path& file,
                     const std::function<void(const io::Record&)>& fn) {
  ModelTextEncoder encoder(model);
  if (file.extension() == ".txt") encoder.get();  // a bad tokenizer fails before any output
  io::for_each_record(file, &encoder, [&](io::Record&& rec) {
    fn(rec);
    return true;
  });
  return encoder.name();
}

}  // namespace moerecal::jobs
