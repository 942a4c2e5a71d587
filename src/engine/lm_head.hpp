// The output projection and next-token log-probabilities: the one place where final hidden states
// become logits (h lm_head^T, through the backend) and log-softmax rows.
#pragma once

#include <cstddef>
#include <vector>

#include "linalg/backend.hpp"
#include "model/model.hpp"

namespace moerecal::engine {

// The output projection [vocab, d] in f32: lm_head, or the embeddings when they are tied.
struct LmHead {
  explicit LmHead(const model::MoeModel& m);
  int vocab = 0;
  int hidden = 0;
  std::vector<float> weight;
};

// Log-probabilities of chosen rows of the hidden states [T, d], `chunk` rows per GEMM:
//   LogProbChunks c(head, h, rows, 256);
//   while (c.next(be)) for (int i = 0; i < c.size(); ++i) c.log_probs(i, lp);  // rows[c.first()+i]
// `head`, `hidden` and `rows` must outlive it.
class LogProbChunks {
 public:
  LogProbChunks(const LmHead& head, const std::vector<float>& hidden,
                const std::vector<std::size_t>& rows, std::size_t chunk);
  // Forms the next chunk's logits; false when every row has been done.
  bool next(linalg::Backend& be);
  std::size_t first() const { return first_; }  // index into `rows` of the chunk's row 0
  int size() const { return n_; }
  // log_softmax of the chunk's row i into out[vocab].
  void log_probs(int i, float* out) const;

 private:
  const LmHead& head_;
  const std::vector<float>& hidden_;
  const std::vector<std::size_t>& rows_;
  std::size_t chunk_;
  std::size_t first_ = 0;
  int n_ = 0;
  bool started_ = false;
  std::vector<float> x_, logits_;
};

// log_softmax(h lm_head^T) for every row of final hidden states [T, d]; returns [T, vocab].
std::vector<float> log_probs(const model::MoeModel& m, linalg::Backend& be,
                             const std::vector<float>& hidden);

}  // namespace moerecal::engine
