// Self-attention of one sequence for one layer (GQA, causal, optional sliding window, q/k/v/o
// biases, qk-norm over the whole projection or per head, clip_qkv, rotary embedding).
#pragma once

#include <vector>

#include "engine/layer_weights.hpp"
#include "engine/rope.hpp"
#include "linalg/backend.hpp"

namespace moerecal::engine {

// x: [T, d] normed inputs of one sequence; adds the attention output into `out` [T, d]. The
// heads run side by side on the backend's workers. GQA (attention.cpp) or MLA (attention_mla.cpp)
// as the spec says.
void attention(linalg::Backend& be, const model::ModelSpec& s, int layer, const AttentionWeights& w,
               const RopeTables& rope, const float* x, int T, float* out);
void mla_attention(linalg::Backend& be, const model::ModelSpec& s, int layer,
                   const AttentionWeights& w, const RopeTables& rope, const float* x, int T,
                   float* out);

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
void attend_heads(linalg::Backend& be, const HeadLayout& h, int T, float scale, int window,
                  float* o);

}  // namespace moerecal::engine
