// The verbs behind `reconcile`: each takes its parsed options and returns the exit code
// (0 success, 1 error, 2 with --detailed-exitcode when the plan is not empty).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/exec/executor.h"
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
  std::string format = "text";  // text, json, markdown, html
  bool explain = false;
  bool detailed_exitcode = false;
  std::string timings;  // a rehearsal's timings (history --export), instead of the other journals'
};

struct HistoryCommandOptions {
  std::string format = "text";  // text or html
  std::string export_file;      // the timings of its completed stages, for plan --timings
};

struct ApplyCommandOptions {
  std::string through;
  bool yes = false;
  bool allow_irreversible = false;
  bool force = false;  // past the providers' safety limits
  std::size_t parallelism = kDefaultParallelism;
  std::string lock_timeout = "0s";
  std::set<std::string> rerun;  // one-shot steps cut off mid-run, to run again
  bool json = false;            // events as JSON lines on stderr
  std::string timings;          // as plan's
};

struct RollbackCommandOptions {
  std::string to;
  std::set<std::string> rerun;  // one-shot steps whose revert was cut off, to run again
  bool dry_run = false;
  bool yes = false;
  bool force = false;
  bool allow_irreversible = false;
  std::size_t parallelism = kDefaultParallelism;
  std::string lock_timeout = "0s";
  bool json = false;
};

// `spec_or_plan` may name a plan saved with `plan --out`: then exactly that plan is applied,
// or refused as stale.
int RunApply(const Registry& registry, CommonOptions common, const ApplyCommandOptions& options);
int RunRollback(const Registry& registry, const CommonOptions& common, const RollbackCommandOptions& options);
int RunHistory(const Registry& registry, const CommonOptions& common, const HistoryCommandOptions& options);
// The rollback once the journal is locked, to the end of stage `to` (options.to names it):
// shared by `rollback` and by apply's on_failure = "rollback", for which `automatic` says why
// (shown in the title) and options.yes is set, since the spec asked for it.
struct Session;
int RollBackLocked(Session& locked, const CommonOptions& common, const RollbackCommandOptions& options, std::size_t to,
                   const std::string& automatic);
int RunStatus(const Registry& registry, const CommonOptions& common);
// Refuses a holder that is still running unless `force`, and then only once confirmed on a
// terminal, or with `yes`.
int RunForceUnlock(const Registry& registry, const CommonOptions& common, const std::string& id, bool force, bool yes);
// Copies every record of a file journal into the spec's [state] url, checked, then renames
// the file so no later run can take its stale history for the truth.
int RunMigrateJournal(const Registry& registry, const CommonOptions& common, const std::string& from);

int RunValidate(const Registry& registry, const CommonOptions& common);
// The reference of every type, attribute and provider setting (docs/spec.md), or the type names.
std::string SchemaMarkdown(const Registry& registry);
int RunSchema(const Registry& registry, bool markdown);
int RunPlan(const Registry& registry, const CommonOptions& common, const PlanCommandOptions& options);
int RunGraph(const Registry& registry, const CommonOptions& common, const std::string& stage);
int RunCheck(const Registry& registry, const CommonOptions& common, const std::string& stage);

}  // namespace reconcile
