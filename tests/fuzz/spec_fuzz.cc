// libFuzzer harness over everything `validate` and `plan` do with a spec before touching the
// world: TOML parsing (toml++ compiled in, asserts on), the schema checks of every built-in
// provider, the dependency graph, then every resource's desired state at every stage it is
// in. Any crash, sanitizer report or uncaught exception is a bug: bad input must end in a
// diagnostic. Built with -DRECONCILE_FUZZ=ON by clang++; run by tests/fuzz/run.sh.
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/graph/graph.h"
#include "engine/registry.h"
#include "engine/spec/spec.h"
#include "engine/value.h"
#include "providers/builtin.h"

using namespace reconcile;

namespace {

// Desired states worked out per input at most: a spec of many stages and resources is
// legitimate, but the fuzzer learns nothing from spending seconds on one.
constexpr std::size_t kMaxDesired = 20000;

const Registry& Providers() {
  static const Registry* registry = [] {
    auto* r = new Registry;
    if (Status s = RegisterBuiltinProviders(r); !s) __builtin_trap();
    return r;
  }();
  return *registry;
}

// What a load gives, places included, to compare a spec parsed whole with it cut in pieces.
std::string Outcome(const LoadResult& load) {
  std::string out = load.diags.Render(*load.sources);
  if (!load.spec) return out;
  for (const Resource& r : load.spec->resources) {
    out += r.address + "@" + r.loc.ToString() + " " + std::to_string(r.stage) + "@" + r.stage_loc.ToString();
    for (const auto& [name, v] : r.attrs) out += " " + name + "=" + FormatValue(v.value) + "@" + v.loc.ToString();
    for (const Overlay& o : r.overlays) out += " at " + std::to_string(o.stage) + "@" + o.loc.ToString();
    for (const Dependency& d : r.deps) out += " dep " + std::to_string(d.on) + "@" + d.loc.ToString();
    out += "\n";
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  // Each resource a piece of its own (toml_pieces.h): what it loads into, and every error,
  // must be what the whole document gives.
  LoadOptions cut;
  cut.piece_bytes = 1;
  LoadResult pieces = LoadSpecText("fuzz.toml", text, cut, Providers());
  LoadOptions whole;
  whole.piece_bytes = std::size_t(-1);
  LoadResult load = LoadSpecText("fuzz.toml", std::move(text), whole, Providers());
  if (Outcome(pieces) != Outcome(load)) __builtin_trap();
  if (!load.spec) {
    if (load.diags.empty()) __builtin_trap();  // refused without saying why
    return 0;
  }
  const Spec& spec = *load.spec;
  DependencyGraph graph;
  if (!graph.Build(spec, &load.diags)) return 0;
  // In dependency order, as plan asks, so references are found in the cache.
  std::vector<std::size_t> order(spec.resources.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[graph.rank()[i]] = i;
  DesiredCache cache(spec, false);
  std::size_t worked = 0;
  for (std::size_t stage = 0; stage < spec.stages.size(); ++stage) {
    for (std::size_t i : order) {
      if (spec.resources[i].stage > stage) continue;
      if (++worked > kMaxDesired) return 0;
      (void)cache.At(i, stage);
    }
  }
  return 0;
}
