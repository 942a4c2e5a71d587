#include "jobs/progress.hpp"

#include <unistd.h>

#include <cstdio>
#include <string>

#include "core/log.hpp"

namespace moerecal::jobs {

Progress::Progress(std::string what, std::int64_t tokens)
    : what_(std::move(what)),
      tokens_(tokens),
      enabled_(isatty(2) && log::level() != log::Level::kQuiet),
      start_(std::chrono::steady_clock::now()) {}

Progress::~Progress() { report(); }

void Progress::report() {
  if (shown_) std::fputs("\r\033[K", stderr);
  shown_ = false;
  if (layers_ == 0 || log::level() != log::Level::kVerbose) return;
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const std::string tokens =
      tokens_ > 0 ? ", " + std::to_string(static_cast<long long>(tokens_)) + " tokens" : "";
  char secs[32];
  std::snprintf(secs, sizeof secs, "%.2f s", s);
  log::info(what_ + ": " + std::to_string(layers_) + " layers" + tokens + " in " + secs);
  layers_ = 0;
}

void Progress::restart(std::string what, std::int64_t tokens) {
  report();
  what_ = std::move(what);
  tokens_ = tokens;
  start_ = std::chrono::steady_clock::now();
}

void Progress::operator()(int done, int total) {
  layers_ = total;
  if (!enabled_) return;
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  std::string rate, eta;
  if (done > 0 && s > 0) {
    if (tokens_ > 0)
      rate = ", " + std::to_string(static_cast<long long>(tokens_ * done / s)) + " tok/s";
    eta = ", ETA " + std::to_string(static_cast<long long>(s / done * (total - done) + 0.5)) + " s";
  }
  std::fprintf(stderr, "\r\033[Kmoe-recal: %s: layer %d/%d%s%s", what_.c_str(), done + 1, total,
               rate.c_str(), eta.c_str());
  std::fflush(stderr);
  shown_ = true;
}

}  // namespace moerecal::jobs
