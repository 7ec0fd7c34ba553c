// What most engine tests need: a registry with the in-memory provider (and the real
// built-in providers), and a one-call way to load a spec from text and read its errors.
#pragma once

#include <string>

#include "engine/graph/graph.h"
#include "engine/plan/plan.h"
#include "engine/registry.h"
#include "engine/spec/spec.h"
#include "providers/builtin.h"
#include "tests/support/memory_provider.h"

namespace reconcile {

struct TestWorld {
  Registry registry;
  MemoryProvider* mem = nullptr;

  explicit TestWorld(std::shared_ptr<HostConnections> hosts = nullptr) {
    auto p = std::make_unique<MemoryProvider>();
    mem = p.get();
    (void)registry.Add(std::move(p));
    (void)RegisterBuiltinProviders(&registry, std::move(hosts));
  }

  LoadResult Load(std::string text, const LoadOptions& options = {}, const std::string& path = "spec.toml") {
    return LoadSpecText(path, std::move(text), options, registry);
  }

  // Every error of a load, rendered as the CLI prints it ("" when it loaded).
  static std::string Errors(const LoadResult& r) { return r.diags.Render(*r.sources); }

  // The first error of loading `text` (as spec.toml) as "LINE:COL: error: …", without the
  // quoted line and caret; "(it loaded)" when it loads, so a comparison with an error fails.
  std::string FirstError(const std::string& text) {
    LoadResult r = Load(text);
    if (r.spec) return "(it loaded)";
    std::string all = Errors(r);
    std::size_t start = all.find("spec.toml:");
    if (start == std::string::npos) return all;
    std::size_t end = all.find('\n', start);
    return all.substr(start + 10, end - start - 10);
  }

  // The plan of a loaded spec, as `reconcile plan` makes it; an error says why there is none.
  static Result<Plan> PlanOf(LoadResult& load, const PlanOptions& options = {}) {
    if (!load.spec) return Error{Errors(load)};
    DependencyGraph graph;
    if (!graph.Build(*load.spec, &load.diags)) return Error{Errors(load)};
    return MakePlan(*load.spec, graph, options);
  }

  // Loads `text`, plans it, and applies every step of every stage through the providers, as
  // apply would without the journal. Returns the first error ("" when all went through).
  std::string PlanAndApply(const std::string& text, Plan* planned = nullptr) {
    LoadResult load = Load(text);
    auto plan = PlanOf(load);
    if (!plan) return plan.error().message;
    if (planned) *planned = *plan;
    for (const StagePlan& sp : plan->stages)
      for (const Step& step : sp.steps) {
        if (step.action == Action::kCheck) continue;
        const Resource& r = load.spec->resources[step.resource];
        std::optional<ProviderConfig> config;
        if (!r.provider_instance.empty()) {
          auto c = ResolveProvider(*load.spec, load.spec->providers.at(r.provider_instance));
          if (!c) return c.error().message;
          config = std::move(*c);
        }
        Target t{r.address, r.schema, step.desired.attrs, HostFor(*load.spec, r), config ? &*config : nullptr};
        auto done = r.provider->Apply(Change{step.action, t, step.prior, {}});
        if (!done) return done.error().message;
      }
    return "";
  }
};

// The header every test spec starts with.
inline const char* kHeader = "version = 1\nname = \"t\"\nstages = [\"one\", \"two\", \"three\"]\n";

// After the header: a chain base → middle → top (an `after`, then a reference) and one item
// on its own, for tests of order and failure propagation.
inline const char* kChainItems = R"(
[mem_item.base]
key = "base"
[mem_item.middle]
key = "middle"
after = ["mem_item.base"]
[mem_item.top]
key = "top"
value = "${mem_item.middle.key}"
[mem_item.alone]
key = "alone"
)";

}  // namespace reconcile
