// DeepSeek multi-head latent attention (ARCHITECTURES.md §6.5, §13), as transformers computes it:
// q = W_qb RMSNorm(W_qa x) (or W_q x without a query LoRA), split per head into [nope | rope];
// W_kva x = [latent | one rope key shared by all heads]; W_kvb RMSNorm(latent) = per head
// [k_nope | v]; rope on the rope parts (de-interleaved first); scale qk_dim^-0.5 * mscale^2. The
// weights come from AttentionWeights (their names: model::layer_tensors).
#include <cmath>

#include "engine/attention.hpp"
#include "engine/ffn.hpp"
#include "engine/ops.hpp"

namespace moerecal::engine {
namespace {

// q [T, H * qk] = x W_q^T, or through the query LoRA: W_qa, RMSNorm, W_qb.
std::vector<float> mla_query(linalg::Backend& be, const model::ModelSpec& s,
                             const AttentionWeights& w, const float* x, int T) {
  const model::MlaSpec& m = s.attn.mla;
  const int d = s.hidden, n = s.attn.n_heads * m.qk_dim();
  std::vector<float> q(std::size_t(T) * n);
  if (m.q_lora_rank == 0) {
    linear(be, x, T, d, w.q, n, {}, q.data());
    return q;
  }
  const int r = m.q_lora_rank;
  std::vector<float> qa(std::size_t(T) * r);
  linear(be, x, T, d, w.q_a, r, w.q_a_bias, qa.data());
  rms_norm(qa.data(), w.q_a_norm.data(), qa.data(), T, r, m.a_norm_eps);
  linear(be, qa.data(), T, r, w.q_b, n, {}, q.data());
  return q;
}

// K [T, H * qk]: each head's k_nope (from kv [T, H * (nope + v)]) then the shared rope key.
std::vector<float> mla_keys(const model::MlaSpec& m, int H, int T, const float* kv,
                            const float* ckv) {
  const int qk = m.qk_dim(), kvw = m.nope_dim + m.v_dim, cw = m.kv_lora_rank + m.rope_dim;
  std::vector<float> k(std::size_t(T) * H * qk);
  for (int t = 0; t < T; ++t) {
    const float* rot = ckv + std::size_t(t) * cw + m.kv_lora_rank;
    for (int h = 0; h < H; ++h) {
      float* kh = k.data() + (std::size_t(t) * H + h) * qk;
      std::copy_n(kv + (std::size_t(t) * H + h) * kvw, m.nope_dim, kh);
      std::copy_n(rot, m.rope_dim, kh + m.nope_dim);
    }
  }
  return k;
}

}  // namespace

void mla_attention(linalg::Backend& be, const model::ModelSpec& s, int layer,
                   const AttentionWeights& w, const RopeTables& rope, const float* x,
                   std::span<const int> lengths, float* out) {
  const model::MlaSpec& m = s.attn.mla;
  const int d = s.hidden, H = s.attn.n_heads, qk = m.qk_dim(), kvw = m.nope_dim + m.v_dim;
  const int cw = m.kv_lora_rank + m.rope_dim, T = total_length(lengths);
  std::vector<float> q = mla_query(be, s, w, x, T);
  std::vector<float> ckv(std::size_t(T) * cw), lat(std::size_t(T) * m.kv_lora_rank);
  linear(be, x, T, d, w.kv_a, cw, w.kv_a_bias, ckv.data());
  for (int t = 0; t < T; ++t) {
    std::copy_n(ckv.data() + std::size_t(t) * cw, m.kv_lora_rank,
                lat.data() + std::size_t(t) * m.kv_lora_rank);
  }
  for_each_sequence(lengths, [&](std::size_t first, int n) {
    for (int t = 0; t < n; ++t) {
      apply_rope(q.data() + (first + t) * H * qk, H, qk, m.nope_dim, t, rope);
      apply_rope(ckv.data() + (first + t) * cw, 1, cw, m.kv_lora_rank, t, rope);
    }
  });
  rms_norm(lat.data(), w.kv_a_norm.data(), lat.data(), T, m.kv_lora_rank, m.a_norm_eps);
  std::vector<float> kv(std::size_t(T) * H * kvw);
  linear(be, lat.data(), T, m.kv_lora_rank, w.kv_b, H * kvw, {}, kv.data());
  const std::vector<float> k = mla_keys(m, H, T, kv.data(), ckv.data());
  std::vector<float> o(std::size_t(T) * H * m.v_dim);
  const float scale = static_cast<float>(s.attn.softmax_mscale2 / std::sqrt(double(qk)));
  attend_sequences(be,
                   {H, H, qk, m.v_dim, q.data(), H * qk, qk, k.data(), H * qk, qk,
                    kv.data() + m.nope_dim, H * kvw, kvw},
                   lengths, scale, 0, o.data());
  std::vector<float> y(std::size_t(T) * d);
  linear(be, o.data(), T, H * m.v_dim, w.o, d, w.o_bias, y.data());
  for (std::size_t i = 0; i < y.size(); ++i) out[i] += y[i];
}

}  // namespace moerecal::engine
