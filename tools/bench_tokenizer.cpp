// Tokenizer throughput: encodes every "text" record of a JSONL file (or a .txt file, one record)
// with a tokenizer.json and prints "tokens N seconds S tokens_per_s R" for the encoding alone
// (loading the tokenizer and reading the file are not timed), the line tools/bench_tokenizer.sh
// compares with the JavaScript reference.
//   bench_tokenizer TOKENIZER_DIR DATA
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.hpp"

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench_tokenizer TOKENIZER_DIR DATA(.jsonl|.txt)\n");
    return 2;
  }
  try {
    const auto tok = moerecal::tokenizer::Tokenizer::load(argv[1]);
    std::ifstream in(argv[2], std::ios::binary);
    std::vector<std::string> texts;
    if (std::string(argv[2]).ends_with(".txt")) {
      std::ostringstream ss;
      ss << in.rdbuf();
      texts.push_back(ss.str());
    } else {
      for (std::string line; std::getline(in, line);) {
        if (!line.empty()) texts.push_back(nlohmann::json::parse(line).at("text"));
      }
    }
    const auto t0 = std::chrono::steady_clock::now();
    std::size_t n = 0;
    for (const std::string& t : texts) n += tok.encode(t).size();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("tokens %zu seconds %.3f tokens_per_s %.0f\n", n, s, n / s);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_tokenizer: %s\n", e.what());
    return 2;
  }
}
