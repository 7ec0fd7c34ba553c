// The verbs behind `reconcile`: each takes its parsed options and returns the exit code
// (0 success, 1 error, 2 with --detailed-exitcode when the plan is not empty).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "engine/registry.h"

namespace reconcile {

struct CommonOptions {
  std::string spec;
  std::string env;
  std::vector<std::string> vars;  // "k=v"
};

struct PlanCommandOptions {
  std::string stage;
  std::string out;
  bool json = false;
  bool explain = false;
  bool detailed_exitcode = false;
};

int RunValidate(const Registry& registry, const CommonOptions& common);
int RunPlan(const Registry& registry, const CommonOptions& common, const PlanCommandOptions& options);
int RunGraph(const Registry& registry, const CommonOptions& common, const std::string& stage);

}  // namespace reconcile
