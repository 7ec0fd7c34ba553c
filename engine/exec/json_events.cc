#include "engine/exec/json_events.h"

#include <chrono>
#include <ctime>

#include "engine/journal/journal.h"
#include "engine/plan/plan.h"

namespace reconcile {

void JsonEvents::Emit(const std::string& event, nlohmann::json fields) {
  // "event" and "time" first, for a person reading the log too.
  nlohmann::ordered_json line = {{"event", event}, {"time", NowUtcMillis()}};
  for (auto& [key, value] : fields.items()) line[key] = value;
  // Replaced, not refused: a provider's message may hold bytes that are not UTF-8.
  std::string text = line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::lock_guard<std::mutex> g(mu_);
  out_ << text << "\n" << std::flush;
}

void JsonEvents::StageStarted(const std::string& stage, std::size_t steps) {
  Emit("stage_started", {{"stage", stage}, {"steps", steps}});
}

void JsonEvents::StageFinished(const std::string& stage, const StageOutcome& outcome) {
  Emit("stage_finished", {{"stage", stage},
                          {"complete", outcome.complete},
                          {"interrupted", outcome.interrupted},
                          {"failed", outcome.failed},
                          {"not_run", outcome.not_run}});
}

void JsonEvents::StepStarted(const std::string& address, Action action) {
  Emit("step_started", {{"address", address}, {"action", ActionName(action)}});
}

void JsonEvents::StepFinished(const std::string& address, Action action, const std::string& error,
                              std::chrono::milliseconds took) {
  nlohmann::json fields = {
      {"address", address}, {"action", ActionName(action)}, {"ok", error.empty()}, {"ms", took.count()}};
  if (!error.empty()) fields["error"] = error;
  Emit("step_finished", std::move(fields));
}

void JsonEvents::CheckWaiting(const std::string& address, const std::string& detail, std::chrono::milliseconds waited,
                              std::chrono::milliseconds timeout) {
  Emit("check_waiting",
       {{"address", address}, {"detail", detail}, {"waited_ms", waited.count()}, {"timeout_ms", timeout.count()}});
}

void JsonEvents::Note(const std::string& line) { Emit("note", {{"message", line}}); }

void JsonEvents::Watching(const std::string& stage, std::chrono::milliseconds watched, std::chrono::milliseconds window,
                          const std::string& detail) {
  Emit("watching",
       {{"stage", stage}, {"watched_ms", watched.count()}, {"window_ms", window.count()}, {"detail", detail}});
}

}  // namespace reconcile
