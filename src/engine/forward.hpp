// Layer-wise streaming forward pass (DESIGN.md §5, ARCHITECTURES.md §2-§5): all sequences advance
// one layer at a time, so only one layer's weights (f32) and the hidden states of every token are
// resident. fp32 compute and accumulation, every product through the caller's backend. An
// Observer sees every router's inputs and decisions. Logits: lm_head.hpp.
#pragma once

#include <functional>
#include <map>
#include <vector>

#include "engine/layer_weights.hpp"
#include "linalg/backend.hpp"
#include "model/model.hpp"

namespace moerecal::engine {

// What one MoE layer's router did for all tokens (rows in token order across sequences).
struct RouterEvent {
  int layer = 0;
  int n_tokens = 0;
  const float* inputs = nullptr;   // [T, d] router inputs (post-attention RMSNorm output)
  const float* logits = nullptr;   // [T, E]
  const int* selected = nullptr;   // [T, k] expert indices, best first
  const float* weights = nullptr;  // [T, k] routing weights applied to the experts
};

class Observer {
 public:
  virtual ~Observer() = default;
  // Before routing layer `layer`: may return the router (rows [E, d] and biases) to use for these
  // inputs x [T, d] (sequential calibration), or nullptr to keep the current one. The pointer
  // must stay valid until the layer is done. `w` is the layer's weights as the engine holds them
  // (f32), valid during the call.
  virtual const RouterWeights* router_for(int layer, const LayerWeights& w, const float* x,
                                          int n_tokens) {
    return nullptr;
  }
  // Whether router_for reads layer `layer`'s routed experts (w.experts): the layer's experts are
  // then widened once for both uses where --expert-memory allows.
  virtual bool reads_experts(int layer) const { return false; }
  virtual void on_router(const RouterEvent& ev) {}
};

struct ForwardOptions {
  Observer* observer = nullptr;
  // Routers replacing the checkpoint's, by layer (candidate routers).
  const std::map<int, RouterWeights>* routers = nullptr;
  // Called as each layer starts: (layer index, number of layers).
  std::function<void(int, int)> on_layer;
  // Routed experts of a layer that are read more than once (by several streams, or by the forward
  // and an observer that reads them) are kept widened up to this many bytes, else streamed (the
  // first stream's value holds for a lockstep run). Experts read once are always streamed: each
  // is widened once either way, and streaming never holds the layer's f32 copy (experts.hpp).
  std::size_t expert_memory = kDefaultExpertMemory;
  // The rows of the returned hidden states that the caller reads (the scored positions), or
  // nullptr for all. The other rows skip the last layer's routed experts, whose output reaches
  // nothing else (later positions read a row only through attention, and there is none after the
  // last layer): their hidden states are then not the model's. Every row is still routed there,
  // so observers see the whole layer.
  const std::vector<std::size_t>* read_rows = nullptr;
};

// Runs the sequences through every layer and returns the final-norm hidden states [T, d]
// (T = total tokens). Throws FormatError for token ids outside the vocabulary.
std::vector<float> run_layers(const model::MoeModel& m, linalg::Backend& be,
                              const std::vector<std::vector<int>>& seqs,
                              const ForwardOptions& opt = {});

// Several streams over the same sequences, each with its own routers and observer, advanced in
// lockstep: every layer's weights are loaded once for all of them (DESIGN.md §5, eval). The
// first stream's on_layer reports progress. Returns the final-norm hidden states per stream.
std::vector<std::vector<float>> run_layers_lockstep(const model::MoeModel& m, linalg::Backend& be,
                                                    const std::vector<std::vector<int>>& seqs,
                                                    const std::vector<ForwardOptions>& streams);

// The residual stream entering layer `layer` (before its input norm), the sequences run through
// layers 0 .. layer-1 as run_layers runs them: the part of a pass that candidates whose routers
// differ only from `layer` on share.
std::vector<float> run_prefix(const model::MoeModel& m, linalg::Backend& be,
                              const std::vector<std::vector<int>>& seqs, int layer,
                              const ForwardOptions& opt = {});

// run_layers_lockstep from `start`, run_prefix's residual stream entering layer `first`.
std::vector<std::vector<float>> run_layers_from(const model::MoeModel& m, linalg::Backend& be,
                                                const std::vector<std::vector<int>>& seqs,
                                                int first, const std::vector<float>& start,
                                                const std::vector<ForwardOptions>& streams);

}  // namespace moerecal::engine
