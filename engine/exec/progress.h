// Progress is an interface (ninja's Status): the executor reports events, a printer decides
// how they look (engine/exec/console.h for the operator's terminal or log); tests use a
// recorder.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "engine/provider.h"

namespace reconcile {

// How a stage's walk ended: counted from its steps' results, so a step that failed before it
// could start (its target unreadable, the journal refusing) counts as much as one that ran.
struct StageOutcome {
  bool complete = false;  // every change done and every check held
  bool interrupted = false;
  std::size_t failed = 0;   // changes and checks that failed
  std::size_t not_run = 0;  // left out: what they wait on failed, or an interrupt came first
};

class Progress {
 public:
  virtual ~Progress() = default;
  virtual void StageStarted(const std::string& stage, std::size_t steps) = 0;
  // Its steps and checks have all run or been left out.
  virtual void StageFinished(const std::string& /*stage*/, const StageOutcome& /*outcome*/) {}
  virtual void StepStarted(const std::string& address, Action action) = 0;
  virtual void StepFinished(const std::string& address, Action action, const std::string& error,
                            std::chrono::milliseconds took) = 0;
  virtual void CheckWaiting(const std::string& address, const std::string& detail, std::chrono::milliseconds waited,
                            std::chrono::milliseconds timeout) = 0;
  virtual void Note(const std::string& line) = 0;
  // A stage's watch window (engine/run/watch.h): `watched` of `window` so far, and what its
  // checks say ("2 checks hold").
  virtual void Watching(const std::string& /*stage*/, std::chrono::milliseconds /*watched*/,
                        std::chrono::milliseconds /*window*/, const std::string& /*detail*/) {}
  // A burst of events (a batch of a thousand steps starting, or finishing, at once) between
  // Hold and Release may be written out together at Release: a line each was a write each.
  // Held only across a loop that reports, never across a wait (HeldProgress).
  virtual void Hold() {}
  virtual void Release() {}
};

class HeldProgress {
 public:
  explicit HeldProgress(Progress& p) : p_(p) { p_.Hold(); }
  ~HeldProgress() { p_.Release(); }
  HeldProgress(const HeldProgress&) = delete;
  HeldProgress& operator=(const HeldProgress&) = delete;

 private:
  Progress& p_;
};

}  // namespace reconcile
