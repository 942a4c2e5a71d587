// A progress line on stderr for long passes: "layer i/L, tokens/s, ETA". Shown only when stderr
// is a terminal and --quiet is off; erased when the pass ends. With -v, each pass that ends says
// how long it took ("calibrate: 8 layers, 4096 tokens in 13.2 s"), terminal or not.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace moerecal::jobs {

class Progress {
 public:
  // `tokens` is the number of tokens each layer processes (0 when the pass has no tokens).
  Progress(std::string what, std::int64_t tokens);
  ~Progress();
  // Called as layer `done` of `total` starts.
  void operator()(int done, int total);
  // A new pass under another label: the clock, the rate and the ETA start again.
  void restart(std::string what, std::int64_t tokens);

 private:
  void report();  // the -v line of the pass that ends, if one ran
  std::string what_;
  std::int64_t tokens_;
  bool enabled_;
  bool shown_ = false;
  int layers_ = 0;  // of the pass running (0: none yet)
  std::chrono::steady_clock::time_point start_;
};

}  // namespace moerecal::jobs
