// The run's milestones for the people around a cutover ([notify] in the spec): a Progress
// decorator that forwards every event to the printer it wraps, as Tally does, and turns the few
// that matter (a stage complete or failed, a check failing for long) into messages, plus the
// run-level ones the CLI reports (started, finished, waiting for confirmation). Messages are
// built from what the console already shows (addresses, stage names, counts, providers'
// errors), never from values, so they hold no secret; they go to a WebhookSender, which never
// makes a callback wait on the network.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/exec/json_events.h"
#include "engine/exec/progress.h"
#include "engine/notify/webhook_sender.h"
#include "engine/spec/notify_spec.h"
#include "engine/spec/spec.h"

namespace reconcile {

class Notifier : public Progress {
 public:
  // Sends to `url` (the webhook, its secret read) through a WebhookSender of its own; a failure
  // is said once as a Note to `out`.
  Notifier(Progress& out, const NotifySpec& settings, std::string url, std::string spec_name, std::string op);
  // Hands each message's body to `send` instead, which must not wait on the network.
  Notifier(Progress& out, const NotifySpec& settings, std::string spec_name, std::string op,
           std::function<void(std::string)> send);

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
  void Hold() override { out_.Hold(); }
  void Release() override { out_.Release(); }

  // `fields` as --json's run_started has them (op, spec, env, through or to).
  void RunStarted(const nlohmann::json& fields);
  // Before a stage's confirm is asked.
  void ConfirmWaiting(const std::string& stage, const std::string& confirm);
  // `fields` as --json's run_finished has them; `summary` is Tally::Summary().
  void RunFinished(const nlohmann::json& fields, const std::string& summary);
  // Waits at most `drain` for the messages still queued to go, then gives up on the rest.
  void Finish(std::chrono::milliseconds drain = std::chrono::seconds(3));

 private:
  // Sends `event` when the spec asks for it: `text` in slack format, or the object the --json
  // writer makes with `write` (the same writer, so the same objects) in json format.
  void Send(const std::string& event, const std::string& text, const std::function<void(JsonEvents&)>& write);

  Progress& out_;
  const NotifySpec settings_;
  const std::string spec_name_;
  const std::string op_;
  std::unique_ptr<WebhookSender> sender_;
  std::function<void(std::string)> send_;

  std::mutex mu_;
  std::string title_;   // "*name*", or "*name* (lab)" for a run with --env lab
  std::string target_;  // the stage the run goes through (apply) or back to (rollback)
  std::map<std::string, std::chrono::steady_clock::time_point> stage_started_;
  std::map<std::string, std::string> first_failure_;  // by stage: "ADDRESS: what went wrong"
  std::string stage_;                                 // the stage walking now
  std::set<std::string> failing_said_;                // checks check_failing was sent for
};

// Opens the notifier of a run of `op` when the spec has [notify] (else null), reading the
// webhook's secret; when it cannot be read or is no URL, says so once on `out` and returns null:
// the run goes on without it.
std::unique_ptr<Notifier> OpenNotifier(const Spec& spec, const std::string& op, Progress& out);

// Slack's escaping of message text (&, <, >), which Mattermost reads too.
std::string SlackEscape(const std::string& text);

}  // namespace reconcile
