// reconcile: declarative, staged, journaled infrastructure cutovers.
#include <iostream>

#include <CLI/CLI.hpp>

#include "engine/cli/commands.h"
#include "providers/builtin.h"

int main(int argc, char** argv) {
  using namespace reconcile;
  Registry registry;
  if (Status s = RegisterBuiltinProviders(&registry); !s) {
    std::cerr << "reconcile: internal error: " << s.message() << "\n";
    return 1;
  }

  CLI::App app{"reconcile: plan, apply and roll back infrastructure cutovers, stage by stage"};
  app.require_subcommand(1);
  CommonOptions common;
  auto add_common = [&](CLI::App* cmd) {
    cmd->add_option("spec", common.spec, "the cutover spec (TOML)")->required();
    cmd->add_option("--env", common.env, "merge SPEC.ENV.toml over the spec (e.g. --env lab)");
    cmd->add_option("--var", common.vars, "set a variable: --var name=value (repeatable)");
  };

  CLI::App* validate = app.add_subcommand("validate", "check the spec: parse, schema, graph; no probing");
  add_common(validate);

  PlanCommandOptions plan_options;
  CLI::App* plan = app.add_subcommand("plan", "show what would change, stage by stage, in order");
  add_common(plan);
  plan->add_option("--stage", plan_options.stage, "show only this stage");
  plan->add_option("--out", plan_options.out, "save the plan (JSON, with the spec's hash) to FILE");
  plan->add_flag("--json", plan_options.json, "print the plan as JSON (docs/plan-json.md)");
  plan->add_flag("--explain", plan_options.explain, "say why each step exists");
  plan->add_flag("--detailed-exitcode", plan_options.detailed_exitcode,
                 "exit 2 when the plan has changes, 0 when it has none, 1 on error");

  std::string graph_stage;
  CLI::App* graph = app.add_subcommand("graph", "print the dependency graph as Graphviz DOT");
  add_common(graph);
  graph->add_option("--stage", graph_stage, "only the resources that act in this stage");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;
  }
  if (*validate) return RunValidate(registry, common);
  if (*plan) return RunPlan(registry, common, plan_options);
  if (*graph) return RunGraph(registry, common, graph_stage);
  return 1;
}
