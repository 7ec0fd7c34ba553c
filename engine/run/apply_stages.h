// The stage driver of `reconcile apply` (ninja's Builder; the CLI only builds it): from the
// first stage the journal has not completed through the last asked for, each stage waits out
// old DNS TTLs, is planned again from the world as it begins (what earlier stages did is
// seen), held to the reviewed plan's rules, walked, checked, and journaled complete.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <set>
#include <string>

#include "engine/exec/executor.h"
#include "engine/run/session.h"

namespace reconcile {

struct ApplyOptions {
  std::size_t through = 0;  // last stage to run
  bool yes = false;         // stages that ask to be confirmed start without asking
  bool allow_irreversible = false;
  bool force = false;           // past the providers' safety limits
  std::set<std::string> rerun;  // one-shot steps cut off mid-run, to run again
  std::string saved_plan;       // the reviewed plan's file when applying one: new steps stop
};

struct ApplyHooks {
  Progress& progress;
  // Whether a stage with `confirm` may start (asked on a terminal by the CLI): "" when it may,
  // or why not ("not confirmed").
  std::function<std::string(const StageSpec& stage)> confirm;
  // The command line that runs `verb` ("rollback") on this spec as the operator gave it, for
  // the ways on that a failure names.
  std::function<std::string(const std::string& verb)> command = [](const std::string& verb) {
    return "reconcile " + verb;
  };
};

// How a run ended; `error` says what stopped it and what to do.
struct RunEnd {
  enum Kind { kOk, kFailed, kStopped, kInterrupted } kind = kOk;
  std::string error;
  // The stage in which a step or a check failed, watched or not: where on_failure applies.
  // Unset for every other way to stop (an interrupt, a refusal, the journal).
  std::optional<std::size_t> failed_stage;
  // The ways on a person takes from here ("fix the cause and apply again, or roll back …"),
  // apart, so that a rollback on_failure starts by itself is not told to the operator too.
  std::string ways_on;
  std::string Message() const { return error + ways_on; }
  int ExitCode() const { return kind == kOk ? 0 : kind == kInterrupted ? 130 : 1; }
};

// One-shot steps an apply was cut off in that nothing can tell happened or not (no `check`):
// apply stops before running them again unless told --rerun; plan and status say so ahead.
// `op`: "apply", or "rollback" for a revert cut off.
std::vector<const PendingStep*> CutOffBlind(const Spec& spec, const History& history, const std::string& op);
std::string CutOffBlindText(const Spec& spec, const PendingStep& p);  // "X was cut off … happened"
// What a pending step was doing, as people say it: "apply create in stage 'b'", "update in a
// rollback to stage 'a'", or for a one-shot step's revert "its `revert` in a rollback to stage
// 'a'" (the journal says "rollback delete", with the stage the rollback goes back to).
std::string PendingWhat(const Spec& spec, const PendingStep& p);
// "Find out …; then, to run it again: COMMAND --rerun X", COMMAND the op's own command line.
std::string CutOffBlindFix(const Spec& spec, const PendingStep& p, const std::string& command);

// Runs `plan` (what the operator reviewed, planned with `plan_options` at `planned_at`) stage
// by stage through `executor`, between a `begin` and an `end` record. The caller holds the
// journal's lock and has refused what the reviewed plan itself may not do.
RunEnd ApplyStages(Session& session, const Plan& plan, const PlanOptions& plan_options,
                   std::chrono::steady_clock::time_point planned_at, const ApplyOptions& options, Executor& executor,
                   ApplyHooks& hooks);

}  // namespace reconcile
