#include <algorithm>

#include <nlohmann/json.hpp>

#include "engine/graph/graph.h"

namespace reconcile {

namespace {

std::string Quoted(const std::string& s) { return nlohmann::json(s).dump(); }

bool ActsIn(const Resource& r, std::size_t stage) { return r.stage == stage || r.OverlayAt(stage) != nullptr; }

}  // namespace

std::string ToDot(const Spec& spec, std::optional<std::size_t> stage) {
  std::string out = "digraph " + Quoted(spec.name) + " {\n  rankdir=LR;\n  node [shape=box];\n";
  std::vector<bool> shown(spec.resources.size(), false);
  for (std::size_t s = 0; s < spec.stages.size(); ++s) {
    if (stage && *stage != s) continue;
    out += "  subgraph " + Quoted("cluster_" + spec.stages[s].name) + " {\n";
    out += "    label=" + Quoted("stage " + spec.stages[s].name) + ";\n";
    for (std::size_t i = 0; i < spec.resources.size(); ++i) {
      const Resource& r = spec.resources[i];
      if (stage ? !ActsIn(r, s) : r.stage != s) continue;
      shown[i] = true;
      std::string attrs = r.is_check() ? " [shape=diamond]" : "";
      out += "    " + Quoted(r.address) + attrs + ";\n";
    }
    out += "  }\n";
  }
  for (std::size_t i = 0; i < spec.resources.size(); ++i) {
    if (!shown[i]) continue;
    const auto& deps = spec.resources[i].deps;
    for (std::size_t k = 0; k < deps.size(); ++k) {
      const Dependency& d = deps[k];
      if (!shown[d.on]) continue;
      // One arrow per pair: an explicit `after` covers any reference the same way.
      bool drawn = std::any_of(deps.begin(), deps.begin() + k, [&](const Dependency& e) { return e.on == d.on; }) ||
                   (d.kind == Dependency::Kind::kReference &&
                    std::any_of(deps.begin() + k, deps.end(), [&](const Dependency& e) {
                      return e.on == d.on && e.kind == Dependency::Kind::kAfter;
                    }));
      if (drawn) continue;
      const char* style = d.kind == Dependency::Kind::kAfter ? "" : " [style=dashed, label=\"ref\"]";
      out += "  " + Quoted(spec.resources[d.on].address) + " -> " + Quoted(spec.resources[i].address) + style + ";\n";
    }
  }
  return out + "}\n";
}

}  // namespace reconcile
