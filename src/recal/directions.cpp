#include "recal/directions.hpp"

#include <array>

#include "core/error.hpp"

namespace moerecal::recal {
namespace {

constexpr std::array<std::string_view, 4> kNames = {"gate_up", "gate", "up", "down"};

}  // namespace

std::optional<ExpertMatrix> parse_expert_matrix(std::string_view s) {
  for (std::size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == s) return static_cast<ExpertMatrix>(i);
  }
  return std::nullopt;
}

std::string_view expert_matrix_name(ExpertMatrix m) { return kNames[static_cast<int>(m)]; }

std::vector<linalg::PrincipalResult> layer_directions(const model::MoeModel& m, int layer,
                                                      ExpertMatrix which,
                                                      const std::vector<float>& router_rows,
                                                      linalg::Backend& be,
                                                      const linalg::PrincipalOptions& opt) {
  const int d = m.spec.hidden, w = m.spec.expert_width;
  MR_ASSERT(router_rows.size() == static_cast<std::size_t>(m.spec.n_experts) * d);
  std::vector<linalg::PrincipalResult> out;
  for (int e = 0; e < m.spec.n_experts; ++e) {
    const model::ExpertTensorNames n = model::expert_tensor_names(m.spec, layer, e);
    std::vector<float> first, second;
    std::vector<linalg::MatrixBlock> blocks;
    if (which == ExpertMatrix::kDown) {
      first = m.ckpt.read_f32(n.down);  // [d, w]: left singular direction
      blocks.push_back({first.data(), w, d, true});
    } else {
      first = m.ckpt.read_f32(which == ExpertMatrix::kUp ? n.up : n.gate);
      blocks.push_back({first.data(), w, d, false});
      if (which == ExpertMatrix::kGateUp) {
        second = m.ckpt.read_f32(n.up);
        blocks.push_back({second.data(), w, d, false});
      }
    }
    out.push_back(
        linalg::principal_direction(be, blocks, router_rows.data() + std::size_t(e) * d, opt));
  }
  return out;
}

}  // namespace moerecal::recal
