#include "engine/exec/progress.h"

#include <iostream>

#include "engine/duration.h"
#include "engine/exec/walk.h"
#include "engine/plan/plan.h"

namespace reconcile {

void StderrProgress::StageStarted(const std::string& stage, std::size_t steps) {
  std::lock_guard<std::mutex> g(mu_);
  total_ = steps;
  done_ = 0;
  std::cerr << "reconcile: stage " << stage << ": " << steps << (steps == 1 ? " step" : " steps") << "\n";
}

void StderrProgress::StepStarted(const std::string& address, Action action) {
  std::lock_guard<std::mutex> g(mu_);
  std::cerr << "[" << done_ << "/" << total_ << "] " << ActionSymbol(action) << " " << address << " ...\n";
}

void StderrProgress::StepFinished(const std::string& address, Action action, const std::string& error,
                                  std::chrono::milliseconds took) {
  std::lock_guard<std::mutex> g(mu_);
  ++done_;
  std::cerr << "[" << done_ << "/" << total_ << "] " << ActionSymbol(action) << " " << address;
  if (error.empty()) {
    std::cerr << (action == Action::kNone ? " already done" : " done (" + FormatDuration(took) + ")") << "\n";
    return;
  }
  // The time before the error, which may run over lines (a command's stderr).
  std::cerr << " FAILED after " << FormatDuration(took) << ": " << StepErrorText(address, error, "    ") << "\n";
}

void StderrProgress::CheckWaiting(const std::string& address, const std::string& detail,
                                  std::chrono::milliseconds waited, std::chrono::milliseconds timeout) {
  std::lock_guard<std::mutex> g(mu_);
  auto now = std::chrono::steady_clock::now();
  // A line per try would flood a long wait: one every 10 s, and the first one.
  if (waited.count() > 0 && now - last_heartbeat_ < std::chrono::seconds(10)) return;
  last_heartbeat_ = now;
  std::cerr << "reconcile: waiting for " << address << ": " << detail << " (" << FormatDuration(waited) << " of "
            << FormatDuration(timeout) << ")\n";
}

void StderrProgress::Note(const std::string& line) {
  std::lock_guard<std::mutex> g(mu_);
  std::cerr << "reconcile: " << line << "\n";
}

}  // namespace reconcile
