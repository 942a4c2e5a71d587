#include "tokenizer/split.hpp"

#include "tokenizer/spec.hpp"

namespace moerecal::tokenizer {
namespace {

struct Seg {
  std::size_t b, e;
  bool match;
};

std::vector<Seg> segments(std::size_t n, const Spans& matches, bool invert) {
  std::vector<Seg> segs;
  std::size_t prev = 0;
  for (const auto& [b, e] : matches) {
    if (b > prev) segs.push_back({prev, b, invert});
    segs.push_back({b, e, !invert});
    prev = e;
  }
  if (prev < n) segs.push_back({prev, n, invert});
  return segs;
}

std::vector<Seg> merge(std::vector<Seg> segs, Behavior b) {
  std::vector<Seg> acc;
  bool previous_match = false;
  if (b == Behavior::kMergedWithNext) {
    for (auto it = segs.rbegin(); it != segs.rend(); ++it) {
      if (it->match && !previous_match && !acc.empty()) {
        acc.back().b = it->b;
      } else {
        acc.push_back(*it);
      }
      previous_match = it->match;
    }
    return {acc.rbegin(), acc.rend()};
  }
  for (const Seg& s : segs) {
    const bool join =
        b == Behavior::kMergedWithPrevious ? s.match && !previous_match : s.match == previous_match;
    if (join && !acc.empty()) {
      acc.back().e = s.e;
    } else {
      acc.push_back(s);
    }
    previous_match = s.match;
  }
  return acc;
}

}  // namespace

Behavior behavior_from_name(const std::string& name, const std::string& where) {
  if (name == "Removed") return Behavior::kRemoved;
  if (name == "Isolated") return Behavior::kIsolated;
  if (name == "MergedWithPrevious") return Behavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return Behavior::kMergedWithNext;
  if (name == "Contiguous") return Behavior::kContiguous;
  unsupported(where + " behavior", name);
}

void split_piece(const Piece& p, const Spans& matches, Behavior b, bool invert,
                 std::vector<Piece>& out) {
  std::vector<Seg> segs = segments(p.text.size(), matches, invert);
  if (b == Behavior::kRemoved) {
    std::erase_if(segs, [](const Seg& s) { return s.match; });
  } else if (b != Behavior::kIsolated) {
    segs = merge(std::move(segs), b);
  }
  for (const Seg& s : segs) {
    if (s.e > s.b) out.push_back({p.text.substr(s.b, s.e - s.b), p.first && s.b == 0});
  }
}

}  // namespace moerecal::tokenizer
