// What a run did, for the lines that end it (Terraform ends with "Resources: 1 added, 0
// changed, 0 destroyed"): the progress events on their way to the printer, counted by action
// and timed by stage. The driver knows nothing of it; the CLI wraps its printer in one.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/exec/progress.h"

namespace reconcile {

struct StageTally {
  std::string stage;
  std::size_t created = 0, updated = 0, deleted = 0, checks = 0;
  std::size_t already_done = 0;  // found done as they were about to run
  std::chrono::steady_clock::time_point started{};
  std::chrono::milliseconds took{0};
  bool finished = false;  // its walk ended (`outcome` says how)
  StageOutcome outcome;
};

class Tally : public Progress {
 public:
  explicit Tally(Progress& out) : out_(out), started_(std::chrono::steady_clock::now()) {}

  void StageStarted(const std::string& stage, std::size_t steps) override;
  void StageFinished(const std::string& stage, const StageOutcome& outcome) override;
  void StepStarted(const std::string& address, Action action) override;
  void StepFinished(const std::string& address, Action action, const std::string& error,
                    std::chrono::milliseconds took) override;
  void CheckWaiting(const std::string& address, const std::string& detail, std::chrono::milliseconds waited,
                    std::chrono::milliseconds timeout) override;
  void Note(const std::string& line) override;
  void Watching(const std::string& stage, std::chrono::milliseconds watched, std::chrono::milliseconds window,
                const std::string& detail) override {
    out_.Watching(stage, watched, window, detail);
  }
  void Hold() override { out_.Hold(); }
  void Release() override { out_.Release(); }

  // The stages as they ran; one whose walk has not ended is timed until now.
  std::vector<StageTally> Stages() const;

  // "2 created, 1 updated, 3 checks held, in 1m4s" — what every stage did together, and the
  // whole run's time (TTL waits between stages included).
  std::string Summary() const;
  // A line per stage: its name, what it did ("no changes"), its time; names aligned.
  std::string StageLines() const;
  // The same for --json: {"counts": {...}, "ms": N, "stages": [{"stage", counts, "ms", "state"}]}.
  nlohmann::json ToJson() const;

 private:
  Progress& out_;
  std::chrono::steady_clock::time_point started_;
  mutable std::mutex mu_;
  std::vector<StageTally> stages_;
};

// "2 created, 1 updated, 1 failed" for one stage's counts, "no changes" for none.
std::string CountsText(const StageTally& t);

}  // namespace reconcile
