// moe-recal perplexity MODEL --data FILE: the model's perplexity on token data.
#include "engine/perplexity.hpp"

#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "cli/data.hpp"
#include "cli/progress.hpp"
#include "core/error.hpp"

namespace moerecal::cli {

CLI::App* add_perplexity(CLI::App& app, PerplexityCmd& c) {
  CLI::App* sub = app.add_subcommand(
      "perplexity", "Perplexity of a checkpoint on token data (second half of each window scored)");
  sub->add_option("MODEL", c.model, "Hugging Face checkpoint directory")->required();
  add_data_options(*sub, c.data, true);
  sub->add_flag("--json", c.json, "Print the result as JSON (schema_version 1)");
  return sub;
}

void add_data_options(CLI::App& sub, DataOptions& d, bool required) {
  auto* o = sub.add_option(
      "--data", d.file,
      "Data: .jsonl, one {\"input_ids\": [...]} or {\"text\": \"...\"} per line, or .txt (one "
      "record, tokenized with the model's tokenizer.json)");
  if (required) o->required();
  sub.add_option("--ctx", d.ctx, "Window length in tokens; longer records are cut into windows")
      ->check(CLI::Range(2, 1 << 20))
      ->capture_default_str();
  sub.add_option("--max-tokens", d.max_tokens, "Cap on the total number of tokens (0 = none)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

int run_perplexity(const PerplexityCmd& c, const GlobalOptions&) {
  const model::MoeModel m = model::MoeModel::open(c.model);
  const io::TokenData data = load_data(c.model, c.data);
  io::check_vocab(data, m.spec.vocab);
  std::vector<std::vector<int>> windows;
  for (const auto& w : data.windows) windows.push_back(w.ids);
  auto be = linalg::make_cpu_backend();
  engine::Perplexity p;
  {
    Progress progress("perplexity", data.tokens);  // erased before the report prints
    engine::ForwardOptions fo;
    fo.on_layer = std::ref(progress);
    p = engine::perplexity(m, *be, windows, fo);
  }
  if (c.json) {
    const nlohmann::json j = {{"schema_version", 1},
                              {"ppl", p.ppl()},
                              {"nll_mean", p.nll_mean()},
                              {"n_tokens_scored", p.n_scored},
                              {"n_sequences", data.records},
                              {"n_windows", windows.size()},
                              {"ctx", data.ctx},
                              {"data_sha256", data.sha256},
                              {"tokenizer", tokenizer_json(data)}};
    std::cout << j.dump(2) << "\n";
  } else {
    std::printf(
        "perplexity %.6f (mean NLL %.6f nats) over %lld scored tokens, %d sequences, "
        "%zu windows, ctx %d\n",
        p.ppl(), p.nll_mean(), static_cast<long long>(p.n_scored), data.records, windows.size(),
        data.ctx);
  }
  std::cout.flush();
  if (!std::cout) throw IoError("cannot write to standard output");
  return kExitOk;
}

}  // namespace moerecal::cli
