// The dependency graph of a spec (Boost.Graph): one node per resource and one barrier node
// per stage; edges from `after`, from ${TYPE.NAME.attr} references, and from stage order
// (a stage begins after everything entering the stage before it is done). A cycle — which
// includes depending on something that enters in a later stage — is reported whole, each
// edge with the place in the spec that made it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/diagnostics.h"
#include "engine/spec/spec.h"

namespace reconcile {

class DependencyGraph {
 public:
  enum class EdgeKind { kAfter, kReference, kStageEntry, kStageExit, kStageOrder };
  struct Edge {
    std::uint32_t from = 0;  // node ids: stages first, then resources (4 billion: never in memory)
    std::uint32_t to = 0;
    EdgeKind kind = EdgeKind::kAfter;
    SourceLoc loc;
  };

  // False, with one diagnostic naming the whole cycle, when the spec's order is impossible.
  bool Build(const Spec& spec, Diagnostics* diags);

  // rank()[i] orders resource i among all resources: dependencies have lower ranks, and
  // resources with no order between them keep the order the spec writes them in.
  const std::vector<std::size_t>& rank() const { return rank_; }
  const std::vector<Edge>& edges() const { return edges_; }

 private:
  std::string NodeName(const Spec& spec, std::size_t node) const;
  std::string Explain(const Spec& spec, const Edge& e) const;

  std::size_t stage_count_ = 0;
  std::vector<Edge> edges_;
  std::vector<std::size_t> rank_;
};

// Graphviz DOT of the spec's resources and their dependencies, clustered by the stage each
// enters at; with `stage`, only the resources that act in that stage.
std::string ToDot(const Spec& spec, std::optional<std::size_t> stage);

}  // namespace reconcile
