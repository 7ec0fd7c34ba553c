// Runs steps through the providers: the StepRunner behind the walk (engine/exec/walk.h), each
// change announced in the journal before it runs and recorded after, each check polled until
// it holds or times out, every batch on a thread of its own.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/exec/progress.h"
#include "engine/exec/walk.h"
#include "engine/journal/journal.h"
#include "engine/journal/seal.h"
#include "engine/plan/plan.h"

namespace reconcile {

// Ctrl-C count: the first lets in-flight steps finish and be journaled; the second exits.
extern std::atomic<int> g_interrupts;
void InstallInterruptHandler();

// Steps run at once when --parallelism does not say.
inline constexpr std::size_t kDefaultParallelism = 8;

struct ExecContext {
  const Spec& spec;
  Journal& journal;
  const Sealer& sealer;
  Progress& progress;
  std::string op = "apply";  // or "rollback"
  std::size_t parallelism = kDefaultParallelism;
  std::size_t per_instance = 4;
};

class Executor : public StepRunner {
 public:
  explicit Executor(ExecContext ctx) : ctx_(std::move(ctx)) {}
  ~Executor() override;

  // Walks every step of one stage, checks included (WalkSteps), journaled under `stage`.
  // Results align with `steps`.
  std::vector<StepResult> RunSteps(const std::vector<Step>& steps, const std::string& stage);

  // Polls each check step until it holds or its timeout passes; the first that fails ends it.
  Status RunChecks(const std::vector<Step>& steps);
  // Polls one check until it holds or its timeout passes, reporting to `progress` (the run's
  // when null).
  StepResult RunCheck(const Step& step, Progress* progress = nullptr);

  // The target a provider acts on for `step`, with its provider instance's secrets resolved.
  Result<Target> TargetFor(const Step& step);

 private:
  std::string SlotOf(const Step& step) override;
  std::string BatchOf(const Step& step) override;
  void Start(std::size_t token, std::vector<const Step*> steps) override;
  Finished WaitForOne() override;
  bool Interrupted() override { return g_interrupts.load() > 0; }

  // Steps whose provider applies them together: journaled one by one, applied in one call.
  std::vector<StepResult> RunBatch(const std::vector<const Step*>& steps, const std::string& stage);
  std::string InstanceKey(const Resource& r) const;
  // Whether a step is read again just before it runs (its state follows what ran before it).
  bool ReadAgain(const Step& step) const;
  // A step planned while a value it takes was known only after apply (state.h's unknown),
  // worked out now that what it refers to has run: its desired state with those values, or
  // why they are still not known.
  Result<State> Known(const Step& step);
  // The step as it runs: read again (ReadAgain) and its unknown values worked out; none when
  // it turns out to be done already. Its error is the step's.
  Result<std::optional<Step>> AsItRuns(const Step& step);

  ExecContext ctx_;
  std::mutex configs_mu_;
  std::map<std::string, ProviderConfig> configs_;
  std::string stage_;  // of the steps walking now
  std::mutex done_mu_;
  std::condition_variable done_cv_;
  std::deque<Finished> finished_;
  // By token; each joined once its batch has reported (WaitForOne). Left until the stage's
  // end, a rollback of 45,000 steps held 32,000 finished threads and could start no more.
  std::map<std::size_t, std::thread> threads_;
};

}  // namespace reconcile
