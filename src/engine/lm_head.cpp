#include "engine/lm_head.hpp"

#include <algorithm>
#include <numeric>

#include "engine/ops.hpp"
#include "model/weights.hpp"

namespace moerecal::engine {

LmHead::LmHead(const model::MoeModel& m)
    : vocab(m.spec.vocab),
      hidden(m.spec.hidden),
      weight(model::WeightReader(m).read(model::model_tensors(m.spec).lm_head)) {}

LogProbChunks::LogProbChunks(const LmHead& head, const std::vector<float>& hidden,
                             const std::vector<std::size_t>& rows, std::size_t chunk)
    : head_(head),
      hidden_(hidden),
      rows_(rows),
      chunk_(chunk),
      x_(chunk * head.hidden),
      logits_(chunk * head.vocab) {}

bool LogProbChunks::next(linalg::Backend& be) {
  if (started_) first_ += n_;
  started_ = true;
  if (first_ >= rows_.size()) return false;
  const int d = head_.hidden, V = head_.vocab;
  n_ = static_cast<int>(std::min(chunk_, rows_.size() - first_));
  for (int i = 0; i < n_; ++i) {
    std::copy_n(hidden_.begin() + rows_[first_ + i] * d, d, x_.begin() + std::size_t(i) * d);
  }
  be.gemm(linalg::Trans::kNo, linalg::Trans::kYes, n_, V, d, 1.0f, x_.data(), d,
          head_.weight.data(), d, 0.0f, logits_.data(), V);
  return true;
}

void LogProbChunks::log_probs(int i, float* out) const {
  log_softmax_row(logits_.data() + std::size_t(i) * head_.vocab, out, head_.vocab);
}

std::vector<float> log_probs(const model::MoeModel& m, linalg::Backend& be,
                             const std::vector<float>& hidden) {
  const LmHead head(m);
  std::vector<std::size_t> rows(hidden.size() / head.hidden);
  std::iota(rows.begin(), rows.end(), 0);
  std::vector<float> out(rows.size() * head.vocab);
  LogProbChunks c(head, hidden, rows, std::max<std::size_t>(1, rows.size()));
  while (c.next(be)) {
    for (int i = 0; i < c.size(); ++i) c.log_probs(i, out.data() + (c.first() + i) * head.vocab);
  }
  return out;
}

}  // namespace moerecal::engine
