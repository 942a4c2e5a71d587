// moe-recal perplexity MODEL --data FILE: the model's perplexity on token data.
#include <cstdio>

#include "cli/commands.hpp"
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

int run_perplexity(const PerplexityCmd& c, const GlobalOptions& g) {
  const nlohmann::json p = jobs::perplexity({c.model, data_request(c.data)}, g.context);
  if (c.json) {
    print(p.dump(2) + "\n");
    return kExitOk;
  }
  char line[256];
  std::snprintf(line, sizeof line,
                "perplexity %.6f (mean NLL %.6f nats) over %lld scored tokens, %d sequences, "
                "%zu windows, ctx %d\n",
                p["ppl"].get<double>(), p["nll_mean"].get<double>(),
                p["n_tokens_scored"].get<long long>(), p["n_sequences"].get<int>(),
                p["n_windows"].get<std::size_t>(), p["ctx"].get<int>());
  print(line);
  return kExitOk;
}

}  // namespace moerecal::cli
