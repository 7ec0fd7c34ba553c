// Progress is an interface (ninja's Status): the executor reports events, a printer decides
// how they look. The stderr printer writes one line per event and a heartbeat while a check
// waits; tests use a recorder.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
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
};

class StderrProgress : public Progress {
 public:
  void StageStarted(const std::string& stage, std::size_t steps) override;
  void StepStarted(const std::string& address, Action action) override;
  void StepFinished(const std::string& address, Action action, const std::string& error,
                    std::chrono::milliseconds took) override;
  void CheckWaiting(const std::string& address, const std::string& detail, std::chrono::milliseconds waited,
                    std::chrono::milliseconds timeout) override;
  void Note(const std::string& line) override;

 private:
  std::mutex mu_;
  std::size_t total_ = 0;
  std::size_t done_ = 0;
  std::chrono::steady_clock::time_point last_heartbeat_{};
};

}  // namespace reconcile
