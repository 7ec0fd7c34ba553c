// Runs the steps of one stage: a bounded parallel walk (an overall limit and one per provider
// instance or host), each step announced in the journal before it runs and recorded after.
// A failed step stops the steps that depend on it; independent steps finish. Then the
// stage's checks are polled until they hold or time out.
#pragma once

#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "engine/exec/progress.h"
#include "engine/journal/journal.h"
#include "engine/journal/seal.h"
#include "engine/plan/plan.h"

namespace reconcile {

// Ctrl-C count: the first lets in-flight steps finish and be journaled; the second exits.
extern std::atomic<int> g_interrupts;
void InstallInterruptHandler();

struct ExecContext {
  const Spec& spec;
  Journal& journal;
  const Sealer& sealer;
  Progress& progress;
  std::string op = "apply";  // or "rollback"
  std::size_t parallelism = 8;
  std::size_t per_instance = 4;
};

struct StepResult {
  bool ran = false;
  bool ok = false;
  std::string error;  // why it failed, or why it did not run
};

class Executor {
 public:
  explicit Executor(ExecContext ctx) : ctx_(std::move(ctx)) {}

  // Runs every step of one stage, checks included, each once what it is `after` has run: a
  // resource after a check waits until the check holds; a check waits for the stage's other
  // changes (those not waiting on it). Results align with `steps`.
  std::vector<StepResult> RunSteps(const std::vector<Step>& steps, const std::string& stage);

  // Polls each check step until it holds or its timeout passes; the first that fails ends it.
  Status RunChecks(const std::vector<Step>& steps);
  // Polls one check until it holds or its timeout passes.
  StepResult RunCheck(const Step& step);

  // The target a provider acts on for `step`, with its provider instance's secrets resolved.
  Result<Target> TargetFor(const Step& step);

 private:
  // Steps whose provider applies them together: journaled one by one, applied in one call.
  std::vector<StepResult> RunBatch(const std::vector<const Step*>& steps, const std::string& stage);
  std::string InstanceKey(const Resource& r) const;

  ExecContext ctx_;
  std::mutex configs_mu_;
  std::map<std::string, ProviderConfig> configs_;
};

// "\n  address: why" for each step that did not succeed; "" when all did.
std::string Failures(const Spec& spec, const std::vector<Step>& steps, const std::vector<StepResult>& results);

}  // namespace reconcile
