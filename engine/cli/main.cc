// reconcile: declarative, staged, journaled infrastructure cutovers.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include <CLI/CLI.hpp>

#include "engine/cli/commands.h"
#include "providers/builtin.h"

namespace {

// A command's exit code, once what it printed has reached stdout; else an error, as coreutils
// end (close_stdout): `reconcile status > /dev/full` exited 0 with nothing written, and
// `plan --detailed-exitcode` 2. For apply and rollback (`changes`) the output is a report of
// what was done, which is done either way: their code stands, and the lost report is said.
int OutputWritten(int code, bool changes = false) {
  errno = 0;
  std::cout.flush();
  bool failed = std::cout.fail() || std::fflush(stdout) != 0 || std::ferror(stdout);
  if (!failed) return code;
  std::string why = errno ? std::string(": ") + std::strerror(errno) : "";
  if (changes) {
    std::cerr << "reconcile: the run's report could not be written to the output" << why
              << "; the run ended as its exit code says, and reconcile status shows where the journal stands\n";
    return code;
  }
  std::cerr << "reconcile: cannot write the output" << why << "\n";
  return code == 0 || code == 2 ? 1 : code;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace reconcile;
  Registry registry;
  if (Status s = RegisterBuiltinProviders(&registry); !s) {
    std::cerr << "reconcile: internal error: " << s.message() << "\n";
    return 1;
  }

  CLI::App app{"reconcile: plan, apply and roll back infrastructure cutovers, stage by stage"};
  app.set_version_flag("--version", "reconcile " RECONCILE_VERSION);
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
  plan->add_flag("--json", plan_options.json, "print the plan as JSON (docs/plan-json.md); --format json");
  plan->add_option("--format", plan_options.format,
                   "text, json, markdown or html (a report for a change request, with the graph where Graphviz "
                   "is installed)")
      ->check(CLI::IsMember({"text", "json", "markdown", "html"}));
  plan->add_flag("--explain", plan_options.explain, "say why each step exists");
  plan->add_flag("--detailed-exitcode", plan_options.detailed_exitcode,
                 "exit 2 when the plan has changes (or a rollback is left to finish), 0 when it has none, 1 on error");
  plan->add_option("--timings", plan_options.timings,
                   "show the rehearsal timings of FILE (written by history --export) instead of those of the "
                   "spec's journals under other --env");

  std::string graph_stage;
  CLI::App* graph = app.add_subcommand("graph", "print the dependency graph as Graphviz DOT");
  add_common(graph);
  graph->add_option("--stage", graph_stage, "only the resources that act in this stage");

  ApplyCommandOptions apply_options;
  std::string check_stage;
  CLI::App* check = app.add_subcommand("check", "run the checks once, now, and say what each sees; changes nothing");
  add_common(check);
  check->add_option("--stage", check_stage, "only the checks of this stage");

  CLI::App* apply = app.add_subcommand("apply", "apply the plan stage by stage, journaled, gated by checks");
  apply->add_option("spec", common.spec, "the cutover spec (TOML), or a plan saved with plan --out")->required();
  apply->add_option("--env", common.env, "merge SPEC.ENV.toml over the spec (e.g. --env lab)");
  apply->add_option("--var", common.vars, "set a variable: --var name=value (repeatable)");
  apply->add_option("--through", apply_options.through, "stop after this stage");
  apply->add_flag("--yes", apply_options.yes,
                  "do not ask: apply the plan shown, and start the stages that ask for confirmation (needed "
                  "without a terminal, unless SPEC is a saved plan)");
  apply->add_flag("--allow-irreversible", apply_options.allow_irreversible, "apply steps that cannot be undone");
  apply->add_option(
      "--rerun", apply_options.rerun,
      "run again a one-shot step that was cut off and has no check (after finding out it did not happen)");
  apply->add_flag("--force", apply_options.force,
                  "go past the providers' safety limits (e.g. changing over 30% of a DNS zone at once)");
  apply->add_option("--parallelism", apply_options.parallelism, "steps run at once")->capture_default_str();
  apply->add_option("--lock-timeout", apply_options.lock_timeout, "wait this long for the journal's lock (e.g. 5m)");
  apply->add_option("--timings", apply_options.timings,
                    "the rehearsal timings to hold the run to (history --export), instead of the other journals'");
  apply->add_flag("--json", apply_options.json,
                  "report the run as JSON events on stderr, one a line (docs/json-events.md); the plan and the "
                  "summary stay on stdout");

  RollbackCommandOptions rollback_options;
  CLI::App* rollback = app.add_subcommand("rollback", "put everything back as it was after a stage");
  add_common(rollback);
  rollback->add_option("--to", rollback_options.to, "the stage to go back to the end of")->required();
  rollback->add_flag("--dry-run", rollback_options.dry_run, "only show the rollback plan");
  rollback->add_option("--rerun", rollback_options.rerun,
                       "run again the revert of a one-shot step that was cut off and has no check (after finding "
                       "out it did not finish)");
  rollback->add_flag("--yes", rollback_options.yes, "do not ask: roll back as shown (needed without a terminal)");
  rollback->add_flag("--force", rollback_options.force, "roll back resources someone else changed since");
  rollback->add_flag("--allow-irreversible", rollback_options.allow_irreversible, "run steps that cannot be undone");
  rollback->add_option("--parallelism", rollback_options.parallelism, "steps run at once")->capture_default_str();
  rollback->add_option("--lock-timeout", rollback_options.lock_timeout, "wait this long for the journal's lock");
  rollback->add_flag("--json", rollback_options.json, "report the run as JSON events on stderr (docs/json-events.md)");

  HistoryCommandOptions history_options;
  CLI::App* history = app.add_subcommand("history", "the runs in the journal as a timeline: who, when, stages, steps");
  add_common(history);
  history->add_option("--format", history_options.format, "text, or html (a timeline chart, SVG, no JavaScript)")
      ->check(CLI::IsMember({"text", "html"}));
  history->add_option("--export", history_options.export_file,
                      "write the timings of its completed stages and steps to FILE (JSON), for plan --timings");

  CLI::App* status = app.add_subcommand("status", "what the journal says: stages done, failures, the lock");
  add_common(status);

  std::string unlock_id;
  bool unlock_force = false, unlock_yes = false;
  CLI::App* unlock = app.add_subcommand("force-unlock", "release a lock whose holder is gone");
  add_common(unlock);
  unlock->add_option("id", unlock_id, "the lock id that status or the refusal showed")->required();
  unlock->add_flag("--force", unlock_force,
                   "take the lock even from a holder that is still running, after a prompt naming it");
  unlock->add_flag("--yes", unlock_yes, "with --force: do not ask");

  bool schema_markdown = false;
  CLI::App* schema = app.add_subcommand("schema", "the resource types this build knows; --markdown: the reference");
  schema->add_flag("--markdown", schema_markdown, "every type, attribute and provider setting, as docs/spec.md");

  std::string migrate_from;
  CLI::App* migrate = app.add_subcommand("migrate-journal", "move the file journal into the spec's [state] url");
  add_common(migrate);
  migrate->add_option("--from", migrate_from, "the file journal (default: .reconcile/NAME.journal beside the spec)");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return OutputWritten(app.exit(e) == 0 ? 0 : 1);
  }
  if (*validate) return OutputWritten(RunValidate(registry, common));
  if (*plan) return OutputWritten(RunPlan(registry, common, plan_options));
  if (*graph) return OutputWritten(RunGraph(registry, common, graph_stage));
  if (*check) return OutputWritten(RunCheck(registry, common, check_stage));
  if (*apply) return OutputWritten(RunApply(registry, common, apply_options), true);
  if (*rollback) return OutputWritten(RunRollback(registry, common, rollback_options), true);
  if (*status) return OutputWritten(RunStatus(registry, common));
  if (*history) return OutputWritten(RunHistory(registry, common, history_options));
  if (*unlock) return OutputWritten(RunForceUnlock(registry, common, unlock_id, unlock_force, unlock_yes), true);
  if (*migrate) return OutputWritten(RunMigrateJournal(registry, common, migrate_from), true);
  if (*schema) return OutputWritten(RunSchema(registry, schema_markdown));
  return 1;
}
