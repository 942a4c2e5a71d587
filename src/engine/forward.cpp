#include "engine/forward.hpp"

#include "core/error.hpp"
#include "engine/attention.hpp"
#include "engine/ffn.hpp"
#include "engine/finite_check.hpp"
#include "engine/layer_weights.hpp"
#include "engine/moe.hpp"
#include "engine/ops.hpp"
#include "model/weights.hpp"

namespace moerecal::engine {
namespace {

std::vector<float> embed(const model::MoeModel& m, const std::vector<std::vector<int>>& seqs) {
  const int d = m.spec.hidden, V = m.spec.vocab;
  const std::vector<float> table = model::WeightReader(m).read(model::model_tensors(m.spec).embed);
  std::vector<float> h;
  for (std::size_t s = 0; s < seqs.size(); ++s) {
    for (std::size_t t = 0; t < seqs[s].size(); ++t) {
      const int id = seqs[s][t];
      if (id < 0 || id >= V) {
        throw FormatError("sequence " + std::to_string(s) + ", position " + std::to_string(t) +
                          ": token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                          std::to_string(V - 1) + ")");
      }
      h.insert(h.end(), table.begin() + std::size_t(id) * d,
               table.begin() + std::size_t(id + 1) * d);
    }
  }
  return h;
}

// Activations a pass reuses from layer to layer (and stream to stream): the normed hidden states
// and the routed experts' outputs.
struct LayerScratch {
  std::vector<float> x;
  MoeWorkspace moe;
};

// One layer (weights already loaded) on the hidden states h of all sequences.
void run_layer(const model::MoeModel& m, linalg::Backend& be, int layer,
               const std::vector<std::vector<int>>& groups, const RopeTables& rope,
               const ForwardOptions& opt, const LayerWeights& w, std::vector<float>& h,
               LayerScratch& scratch) {
  const model::ModelSpec& s = m.spec;
  const int d = s.hidden;
  const std::size_t T = h.size() / d;
  std::vector<float>& x = scratch.x;
  x.resize(h.size());
  rms_norm(h.data(), w.input_norm.data(), x.data(), T, d, s.rms_eps);
  std::size_t off = 0;
  const auto attend = s.attn.kind == model::AttentionKind::kMla ? mla_attention : attention;
  for (const std::vector<int>& lengths : groups) {
    attend(be, s, layer, w.attn, rope, x.data() + off * d, lengths, h.data() + off * d);
    off += static_cast<std::size_t>(total_length(lengths));
  }
  rms_norm(h.data(), w.post_norm.data(), x.data(), T, d, s.rms_eps);
  require_finite_activations(m, layer, "attention outputs", x.data(), x.size());
  if (!s.is_moe_layer(layer)) {
    swiglu_add(be, w.dense, x.data(), static_cast<int>(T), d, nullptr, h.data());
    require_finite_activations(m, layer, "MLP outputs", h.data(), h.size());
    return;
  }
  const RouterWeights* router = &w.router;
  if (opt.routers && opt.routers->count(layer)) router = &opt.routers->at(layer);
  if (opt.observer) {
    if (const auto* r = opt.observer->router_for(layer, w, x.data(), static_cast<int>(T)))
      router = r;
  }
  std::vector<char> read;  // the last layer's routed experts only for the rows read afterwards
  if (opt.read_rows && layer == s.n_layers - 1) {
    read.assign(T, 0);
    for (const std::size_t r : *opt.read_rows) read.at(r) = 1;
  }
  moe_block(be, s, w, *router, layer, x.data(), static_cast<int>(T), h.data(), opt.observer,
            scratch.moe, read.empty() ? nullptr : &read);
  require_finite_activations(m, layer, "MoE outputs", h.data(), h.size());
}

// Whether layer `layer`'s routed experts are read more than once in this run.
bool experts_reused(const std::vector<ForwardOptions>& streams, int layer) {
  if (streams.size() > 1) return true;
  const Observer* o = streams.front().observer;
  return o != nullptr && o->reads_experts(layer);
}

// Advances the streams' hidden states hs through layers [first, end).
void advance(const model::MoeModel& m, linalg::Backend& be,
             const std::vector<std::vector<int>>& seqs, int first, int end,
             const std::vector<ForwardOptions>& streams, std::vector<std::vector<float>>& hs) {
  const model::ModelSpec& s = m.spec;
  const RopeTables rope = rope_tables(s.attn.rope);
  const std::vector<std::vector<int>> groups = attention_groups(seqs, s.hidden);
  LayerWeights w;  // one layer resident, its buffers reused by the next
  LayerScratch scratch;
  for (int layer = first; layer < end; ++layer) {
    if (streams.front().on_layer) streams.front().on_layer(layer, s.n_layers);
    load_layer(m, be, layer, experts_reused(streams, layer) ? streams.front().expert_memory : 0, w);
    for (std::size_t i = 0; i < streams.size(); ++i) {
      run_layer(m, be, layer, groups, rope, streams[i], w, hs[i], scratch);
    }
  }
}

void require_forward(const model::MoeModel& m, const std::vector<ForwardOptions>& streams) {
  if (!m.spec.forward_unsupported.empty()) {
    throw FormatError((m.ckpt.dir() / "config.json").string() + ": " + m.spec.forward_unsupported);
  }
  MR_ASSERT(!streams.empty());
}

std::vector<std::vector<float>> final_norm(const model::MoeModel& m,
                                           std::vector<std::vector<float>> hs) {
  const model::ModelSpec& s = m.spec;
  const std::vector<float> norm = model::WeightReader(m).read(model::model_tensors(s).final_norm);
  for (auto& h : hs) {
    rms_norm(h.data(), norm.data(), h.data(), h.size() / s.hidden, s.hidden, s.rms_eps);
  }
  return hs;
}

}  // namespace

std::vector<float> run_layers(const model::MoeModel& m, linalg::Backend& be,
                              const std::vector<std::vector<int>>& seqs,
                              const ForwardOptions& opt) {
  return std::move(run_layers_lockstep(m, be, seqs, {opt}).front());
}

std::vector<std::vector<float>> run_layers_lockstep(const model::MoeModel& m, linalg::Backend& be,
                                                    const std::vector<std::vector<int>>& seqs,
                                                    const std::vector<ForwardOptions>& streams) {
  require_forward(m, streams);
  std::vector<std::vector<float>> hs(streams.size(), embed(m, seqs));
  advance(m, be, seqs, 0, m.spec.n_layers, streams, hs);
  return final_norm(m, std::move(hs));
}

std::vector<float> run_prefix(const model::MoeModel& m, linalg::Backend& be,
                              const std::vector<std::vector<int>>& seqs, int layer,
                              const ForwardOptions& opt) {
  require_forward(m, {opt});
  MR_ASSERT(layer >= 0 && layer <= m.spec.n_layers);
  std::vector<std::vector<float>> hs{embed(m, seqs)};
  advance(m, be, seqs, 0, layer, {opt}, hs);
  return std::move(hs.front());
}

std::vector<std::vector<float>> run_layers_from(const model::MoeModel& m, linalg::Backend& be,
                                                const std::vector<std::vector<int>>& seqs,
                                                int first, const std::vector<float>& start,
                                                const std::vector<ForwardOptions>& streams) {
  require_forward(m, streams);
  MR_ASSERT(first >= 0 && first <= m.spec.n_layers);
  std::vector<std::vector<float>> hs(streams.size(), start);
  advance(m, be, seqs, first, m.spec.n_layers, streams, hs);
  return final_norm(m, std::move(hs));
}

}  // namespace moerecal::engine
