#include "engine/cli/commands.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "engine/graph/graph.h"
#include "engine/plan/plan.h"
#include "engine/spec/spec.h"

namespace reconcile {

namespace {

void Fail(const std::string& message) { std::cerr << "reconcile: error: " << message << "\n"; }

// The spec, loaded and checked with its graph; null after printing every error.
struct Loaded {
  LoadResult load;
  DependencyGraph graph;
};

std::unique_ptr<Loaded> Load(const Registry& registry, const CommonOptions& common) {
  auto loaded = std::make_unique<Loaded>();
  LoadOptions options;
  options.env = common.env;
  for (const std::string& kv : common.vars) {
    std::size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      Fail("--var takes NAME=VALUE, got '" + kv + "'");
      return nullptr;
    }
    options.vars[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  loaded->load = LoadSpec(common.spec, options, registry);
  if (loaded->load.spec) loaded->graph.Build(*loaded->load.spec, &loaded->load.diags);
  if (!loaded->load.diags.empty()) {
    std::cerr << loaded->load.diags.Render(*loaded->load.sources);
    std::size_t n = loaded->load.diags.size();
    std::cerr << "reconcile: " << n << (n == 1 ? " error" : " errors")
              << " in the spec; nothing was probed or changed.\n";
    return nullptr;
  }
  return loaded;
}

bool FindStage(const Spec& spec, const std::string& name, std::optional<std::size_t>* out) {
  if (name.empty()) return true;
  *out = spec.FindStage(name);
  if (!*out) {
    Fail("no stage '" + name + "' in " + spec.path + DidYouMean(name, spec.StageNames()));
    return false;
  }
  return true;
}

// Written beside its final name and renamed, so a reader never sees half a plan.
bool WriteAtomically(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      Fail("cannot write " + tmp);
      std::remove(tmp.c_str());
      return false;
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    Fail("cannot write " + path);
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

}  // namespace

int RunValidate(const Registry& registry, const CommonOptions& common) {
  auto loaded = Load(registry, common);
  if (!loaded) return 1;
  const Spec& spec = *loaded->load.spec;
  std::size_t checks = 0;
  for (const Resource& r : spec.resources) checks += r.is_check();
  std::cout << spec.path << ": valid: " << spec.stages.size() << " stages, "
            << spec.resources.size() - checks << " resources, " << checks << " checks\n";
  return 0;
}

int RunPlan(const Registry& registry, const CommonOptions& common, const PlanCommandOptions& options) {
  auto loaded = Load(registry, common);
  if (!loaded) return 1;
  const Spec& spec = *loaded->load.spec;
  RenderOptions render;
  render.explain = options.explain;
  if (!FindStage(spec, options.stage, &render.only_stage)) return 1;

  std::cerr << "reconcile: probing " << spec.resources.size() << " resources of " << spec.name << "\n";
  auto plan = MakePlan(spec, loaded->graph, PlanOptions{});
  if (!plan) {
    Fail(plan.error().message);
    return 1;
  }
  if (!options.out.empty()) {
    if (!WriteAtomically(options.out, RenderJson(spec, *plan, RenderOptions{}))) return 1;
    std::cerr << "reconcile: plan saved to " << options.out << "\n";
  }
  std::cout << (options.json ? RenderJson(spec, *plan, render) : RenderText(spec, *plan, render));
  return options.detailed_exitcode && plan->HasChanges() ? 2 : 0;
}

int RunGraph(const Registry& registry, const CommonOptions& common, const std::string& stage) {
  auto loaded = Load(registry, common);
  if (!loaded) return 1;
  std::optional<std::size_t> only;
  if (!FindStage(*loaded->load.spec, stage, &only)) return 1;
  std::cout << ToDot(*loaded->load.spec, only);
  return 0;
}

}  // namespace reconcile
