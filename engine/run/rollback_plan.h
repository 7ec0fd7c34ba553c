// `reconcile rollback --to S`, in the engine: every resource reconcile changed after stage S
// goes back to what the spec wants at S — or, if it did not exist in the spec by then, to what
// it was before reconcile first touched it. One-shot steps of the stages undone run their
// `revert`, or stay as they are and say so. A plan like any other: re-probed (someone else's
// change since is drift), ordered with dependents undone first, then run and journaled.
#pragma once

#include <string>
#include <vector>

#include "engine/exec/executor.h"
#include "engine/run/apply_stages.h"
#include "engine/run/session.h"

namespace reconcile {

struct RollbackPlan {
  std::size_t to = 0;
  Plan plan;                        // one stage (S), its steps ordered with their waits
  std::vector<Step> stays;          // one-shot steps with no revert: shown, journaled, not run
  std::vector<std::string> undone;  // completed stages after S it un-completes
  std::string drift;                // "\n  address …" for each change since reconcile wrote it
  std::vector<std::string> notes;   // what it leaves alone, and why

  bool Empty() const { return plan.stages.front().steps.empty() && undone.empty() && stays.empty(); }
  // The plan as shown: its steps and what stays.
  Plan Shown() const;
};

// Probes what changed after S and plans its way back.
Result<RollbackPlan> PlanRollback(const Session& session, std::size_t to);

// Runs a rollback plan between a `begin` (listing the stages it undoes) and an `end` record.
// The caller holds the journal's lock and has refused drift, irreversible steps and an
// unconfirmed run.
RunEnd RunRollbackPlan(Session& session, const RollbackPlan& rollback, Executor& executor, Progress& progress);

}  // namespace reconcile
