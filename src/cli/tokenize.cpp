// moe-recal tokenize MODEL FILE [--json]: the token ids a data file becomes (DESIGN.md §2, §7).
#include <cstdio>
#include <iostream>

#include "cli/commands.hpp"
#include "core/error.hpp"

namespace moerecal::cli {

CLI::App* add_tokenize(CLI::App& app, TokenizeCmd& c) {
  CLI::App* sub = app.add_subcommand(
      "tokenize",
      "Print the token ids a data file (.jsonl or .txt) becomes with the model's "
      "tokenizer.json");
  sub->add_option("MODEL", c.model,
                  "Checkpoint directory, a directory holding tokenizer.json, or the file itself")
      ->required();
  sub->add_option("FILE", c.file, "Data file: .jsonl ({\"text\"} or {\"input_ids\"}) or .txt")
      ->required();
  sub->add_flag("--json", c.json, "One {\"line\": N, \"input_ids\": [...]} per record (JSONL)");
  return sub;
}

int run_tokenize(const TokenizeCmd& c, const GlobalOptions&) {
  long long records = 0, tokens = 0;
  const std::string tok = jobs::tokenize(c.model, c.file, [&](const io::Record& r) {
    ++records;
    tokens += static_cast<long long>(r.ids.size());
    if (c.json) {
      std::cout << nlohmann::ordered_json{{"line", r.line}, {"input_ids", r.ids}}.dump() << "\n";
    } else {
      std::cout << "line " << r.line << " (" << r.ids.size() << " tokens):";
      for (int id : r.ids) std::cout << ' ' << id;
      std::cout << "\n";
    }
  });
  print("");
  if (!c.json) {
    std::fprintf(stderr, "%lld records, %lld tokens%s%s\n", records, tokens,
                 tok.empty() ? "" : ", tokenizer ", tok.c_str());
  }
  return kExitOk;
}

}  // namespace moerecal::cli
