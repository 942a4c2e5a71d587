// Self-attention for one layer over a group of sequences (GQA, causal, optional sliding window,
// q/k/v/o biases, qk-norm over the whole projection or per head, clip_qkv, rotary embedding).
#pragma once

#include <span>
#include <vector>

#include "engine/layer_weights.hpp"
#include "engine/rope.hpp"
#include "linalg/backend.hpp"

namespace moerecal::engine {

// x: [T, d] normed inputs of sequences of `lengths` tokens, back to back (T their sum); adds the
// attention output into `out` [T, d]. The projections run once over all T rows, so each weight
// matrix is packed for the BLAS kernel once per group rather than once per sequence; positions and
// the causal mask start afresh in each sequence. The heads run side by side on the backend's
// workers. GQA (attention.cpp) or MLA (attention_mla.cpp) as the spec says.
void attention(linalg::Backend& be, const model::ModelSpec& s, int layer, const AttentionWeights& w,
               const RopeTables& rope, const float* x, std::span<const int> lengths, float* out);
void mla_attention(linalg::Backend& be, const model::ModelSpec& s, int layer,
                   const AttentionWeights& w, const RopeTables& rope, const float* x,
                   std::span<const int> lengths, float* out);

// The sequences' lengths in groups of consecutive sequences for attention(): a group holds one
// sequence, or several whose [T, d] activations together stay within about 16 MB.
std::vector<std::vector<int>> attention_groups(const std::vector<std::vector<int>>& seqs, int d);

inline int total_length(std::span<const int> lengths) {
  int n = 0;
  for (const int l : lengths) n += l;
  return n;
}

// Calls fn(first row, length) for each sequence of a group (its rows back to back).
template <class Fn>
void for_each_sequence(std::span<const int> lengths, Fn&& fn) {
  std::size_t first = 0;
  for (const int n : lengths) {
    fn(first, n);
    first += static_cast<std::size_t>(n);
  }
}

// Causal softmax(scale Q K^T) V for every head, side by side on the backend's workers: head h
// reads q columns [h qs, h qs + dk) of rows `q_ld` apart, its key/value head g = h / (H / KV)
// columns [g ks, ..) and [g vs, ..); writes o columns [h dv, (h + 1) dv) (ld H dv).
struct HeadLayout {
  int n_heads, n_kv_heads, dk, dv;
  const float* q;
  int q_ld, q_stride;
  const float* k;
  int k_ld, k_stride;
  const float* v;
  int v_ld, v_stride;
  const float* sinks = nullptr;  // [n_heads] sink logits (gpt-oss), or none
};
// Each sequence of a group on its own: the layout's rows and `o`'s advance sequence by sequence.
void attend_sequences(linalg::Backend& be, const HeadLayout& h, std::span<const int> lengths,
                      float scale, int window, float* o);

}  // namespace moerecal::engine
