// The walk of one stage's steps (ninja's Builder over its CommandRunner): which step may start
// — what it is `after` has succeeded, a check after the stage's changes, within the overall
// limit and the limit of each provider instance or host — and what a failure or Ctrl-C stops.
// What running a step means is the StepRunner's: the providers and the journal in reconcile,
// a fake that finishes steps when told in the tests, so order and limits are tested without
// sleeps or threads.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "engine/exec/progress.h"
#include "engine/plan/plan.h"

namespace reconcile {

struct StepResult {
  bool ran = false;
  bool ok = false;
  std::string error;      // why it failed, or why it did not run
  bool left_out = false;  // not run by the walk: what it waits on failed, or an interrupt
  bool journal = false;   // the journal refused its record: no on_failure rollback on top of that
};

class StepRunner {
 public:
  virtual ~StepRunner() = default;
  // What the per-slot limit counts for a change: its provider instance or host.
  virtual std::string SlotOf(const Step& step) = 0;
  // Changes with the same non-empty key that are ready together are started as one batch
  // (a provider that applies them in one call).
  virtual std::string BatchOf(const Step& step) = 0;
  // Starts a batch of changes, or one check, and returns at once; `token` names it when it
  // finishes.
  virtual void Start(std::size_t token, std::vector<const Step*> steps) = 0;
  struct Finished {
    std::size_t token = 0;
    std::vector<StepResult> results;  // aligned with the steps it was started with
  };
  // Blocks until a started batch finishes.
  virtual Finished WaitForOne() = 0;
  // Ctrl-C: nothing more starts; what runs finishes.
  virtual bool Interrupted() = 0;
};

struct WalkLimits {
  std::size_t parallel = 8;  // changes at once
  std::size_t per_slot = 4;  // changes at once on one provider instance or host
};

// Runs every step once what it waits for has run: the steps of this stage it is `after`
// (a resource after a check starts once the check holds), and for a check, every change of the
// stage that does not itself wait on it. A step whose wait failed or did not run does not run.
// Checks take no slot: they change nothing. Results align with `steps`.
std::vector<StepResult> WalkSteps(const Spec& spec, const std::vector<Step>& steps, StepRunner& runner,
                                  WalkLimits limits);

// "\n  address: why" for each step that did not succeed, of those left out (not run) the first
// kShownNotRun and then how many more; "" when all did.
constexpr std::size_t kShownNotRun = 10;
std::string Failures(const Spec& spec, const std::vector<Step>& steps, const std::vector<StepResult>& results);

// The stage's outcome from its steps' results (`interrupted`: a Ctrl-C came).
StageOutcome OutcomeOf(const std::vector<StepResult>& results, bool interrupted);

// A step's error as it is shown after its address: without the address again (many providers
// begin with it), without the newline a command's stderr ends in, and its later lines indented
// by `indent` so they read as part of it.
std::string StepErrorText(const std::string& address, const std::string& error, const std::string& indent);

}  // namespace reconcile
