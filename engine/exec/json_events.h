// `--json`: the run's events for machines (a CI log parser, a chat bot), one JSON object a line
// on stderr, each with "event" and "time" (UTC, milliseconds). docs/json-events.md lists them.
#pragma once

#include <mutex>
#include <ostream>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/exec/progress.h"

namespace reconcile {

class JsonEvents : public Progress {
 public:
  explicit JsonEvents(std::ostream& out) : out_(out) {}

  void StageStarted(const std::string& stage, std::size_t steps) override;
  void StageFinished(const std::string& stage, const StageOutcome& outcome) override;
  void StepStarted(const std::string& address, Action action) override;
  void StepFinished(const std::string& address, Action action, const std::string& error,
                    std::chrono::milliseconds took) override;
  void CheckWaiting(const std::string& address, const std::string& detail, std::chrono::milliseconds waited,
                    std::chrono::milliseconds timeout) override;
  void Note(const std::string& line) override;
  void Watching(const std::string& stage, std::chrono::milliseconds watched, std::chrono::milliseconds window,
                const std::string& detail) override;

  // Any other event (the run's start and end, an error): `fields` with "event" and "time" added.
  void Emit(const std::string& event, nlohmann::json fields = nlohmann::json::object());

 private:
  std::ostream& out_;
  std::mutex mu_;
};

}  // namespace reconcile
