#include "engine/graph/graph.h"

#include <algorithm>
#include <optional>
#include <tuple>

#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/depth_first_search.hpp>
#include <boost/graph/topological_sort.hpp>

namespace reconcile {

namespace {

struct EdgeId {
  std::size_t id;
};
using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, boost::no_property, EdgeId>;
using Vertex = boost::graph_traits<Graph>::vertex_descriptor;
using GEdge = boost::graph_traits<Graph>::edge_descriptor;

// Records, for each vertex, the tree edge that discovered it, and the first back edge seen:
// together they spell out one cycle.
class CycleFinder : public boost::default_dfs_visitor {
 public:
  CycleFinder(std::vector<std::size_t>* discovered_by, std::optional<std::size_t>* back)
      : discovered_by_(discovered_by),
        back_(back) {}
  void tree_edge(GEdge e, const Graph& g) { (*discovered_by_)[boost::target(e, g)] = g[e].id; }
  void back_edge(GEdge e, const Graph& g) {
    if (!*back_) *back_ = g[e].id;
  }

 private:
  std::vector<std::size_t>* discovered_by_;
  std::optional<std::size_t>* back_;
};

}  // namespace

std::string DependencyGraph::NodeName(const Spec& spec, std::size_t node) const {
  if (node < stage_count_) return "stage '" + spec.stages[node].name + "'";
  return spec.resources[node - stage_count_].address;
}

std::string DependencyGraph::Explain(const Spec& spec, const Edge& e) const {
  std::string from = NodeName(spec, e.from), to = NodeName(spec, e.to);
  std::string where = e.loc.known() ? " (" + e.loc.ToString() + ")" : "";
  switch (e.kind) {
    case EdgeKind::kAfter:
      return to + " comes after " + from + where;
    case EdgeKind::kReference:
      return to + " refers to " + from + where;
    case EdgeKind::kStageEntry:
      return to + " enters at " + from + where;
    case EdgeKind::kStageExit:
      return to + " begins after " + from + " is done" + where;
    case EdgeKind::kStageOrder:
      return from + " comes before " + to + where;
  }
  return from + " → " + to;
}

bool DependencyGraph::Build(const Spec& spec, Diagnostics* diags) {
  stage_count_ = spec.stages.size();
  const std::size_t n = stage_count_ + spec.resources.size();
  edges_.clear();
  // Counted first: a million resources' edges are kept for messages, and a guess of three
  // each held half again as much.
  std::size_t count = stage_count_ > 0 ? stage_count_ - 1 : 0;
  for (const Resource& r : spec.resources) count += 1 + (r.stage + 1 < stage_count_) + r.deps.size();
  edges_.reserve(count);
  auto add = [&](std::size_t from, std::size_t to, EdgeKind kind, const SourceLoc& loc) {
    edges_.push_back({static_cast<std::uint32_t>(from), static_cast<std::uint32_t>(to), kind, loc});
  };
  for (std::size_t s = 0; s + 1 < stage_count_; ++s) add(s, s + 1, EdgeKind::kStageOrder, spec.stages[s + 1].loc);
  for (std::size_t i = 0; i < spec.resources.size(); ++i) {
    const Resource& r = spec.resources[i];
    std::size_t node = stage_count_ + i;
    add(r.stage, node, EdgeKind::kStageEntry, r.stage_loc);
    if (r.stage + 1 < stage_count_) add(node, r.stage + 1, EdgeKind::kStageExit, r.stage_loc);
    for (const Dependency& d : r.deps)
      add(stage_count_ + d.on, node, d.kind == Dependency::Kind::kAfter ? EdgeKind::kAfter : EdgeKind::kReference,
          d.loc);
  }

  Graph g(n);
  for (std::size_t id = 0; id < edges_.size(); ++id) boost::add_edge(edges_[id].from, edges_[id].to, EdgeId{id}, g);

  std::vector<std::size_t> discovered_by(n, SIZE_MAX);
  std::optional<std::size_t> back;
  std::vector<boost::default_color_type> colors(n);
  boost::depth_first_search(
      g, boost::visitor(CycleFinder(&discovered_by, &back))
             .color_map(boost::make_iterator_property_map(colors.begin(), boost::get(boost::vertex_index, g))));
  if (back) {
    // The back edge u → v closes a cycle: v … u along tree edges, then u → v.
    std::vector<std::size_t> cycle = {*back};
    std::size_t head = edges_[*back].to;
    for (std::size_t at = edges_[*back].from; at != head; at = edges_[discovered_by[at]].from)
      cycle.push_back(discovered_by[at]);
    std::reverse(cycle.begin(), cycle.end());
    // Start the story at the first dependency the operator wrote (by place in the spec), so
    // the same spec always gets the same report.
    auto written = [&](std::size_t id) {
      return edges_[id].kind == EdgeKind::kAfter || edges_[id].kind == EdgeKind::kReference;
    };
    auto place = [&](std::size_t id) {
      const SourceLoc& l = edges_[id].loc;
      return std::make_tuple(l.file ? *l.file : std::string(), l.line, l.column);
    };
    auto first = cycle.end();
    for (auto it = cycle.begin(); it != cycle.end(); ++it)
      if (written(*it) && (first == cycle.end() || place(*it) < place(*first))) first = it;
    if (first != cycle.end()) std::rotate(cycle.begin(), first, cycle.end());
    std::string path = NodeName(spec, edges_[cycle.front()].from);
    std::string note;
    // A cycle through thousands of stages is told by its first steps and its length.
    constexpr std::size_t kMaxSteps = 20;
    for (std::size_t k = 0; k < cycle.size() && k < kMaxSteps; ++k) {
      path += " → " + NodeName(spec, edges_[cycle[k]].to);
      note += (note.empty() ? "" : "\n  ") + Explain(spec, edges_[cycle[k]]);
    }
    if (cycle.size() > kMaxSteps) {
      std::string more = std::to_string(cycle.size() - kMaxSteps) + " more steps back to " +
                         NodeName(spec, edges_[cycle.front()].from);
      path += " → ... (" + more + ")";
      note += "\n  ... and " + more;
    }
    diags->Error(edges_[cycle.front()].loc, "dependency cycle: " + path, note);
    return false;
  }

  std::vector<Vertex> order;
  order.reserve(n);
  boost::topological_sort(g, std::back_inserter(order));
  // Depth from the start (longest path), then spec order: a stable, readable order.
  std::vector<std::size_t> depth(n, 0);
  for (auto it = order.rbegin(); it != order.rend(); ++it) {
    for (auto [e, end] = boost::out_edges(*it, g); e != end; ++e) {
      Vertex t = boost::target(*e, g);
      depth[t] = std::max(depth[t], depth[*it] + 1);
    }
  }
  std::vector<std::size_t> resources(spec.resources.size());
  for (std::size_t i = 0; i < resources.size(); ++i) resources[i] = i;
  std::stable_sort(resources.begin(), resources.end(),
                   [&](std::size_t a, std::size_t b) { return depth[stage_count_ + a] < depth[stage_count_ + b]; });
  rank_.assign(spec.resources.size(), 0);
  for (std::size_t pos = 0; pos < resources.size(); ++pos) rank_[resources[pos]] = pos;
  return true;
}

}  // namespace reconcile
