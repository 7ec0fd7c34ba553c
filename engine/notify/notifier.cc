#include "engine/notify/notifier.h"

#include <cctype>
#include <sstream>

#include "engine/duration.h"
#include "engine/exec/walk.h"
#include "engine/journal/journal.h"

namespace reconcile {

namespace {

// The first line of a run's error or a check's answer, without the ':' that led to the rest.
std::string FirstLine(const std::string& text) {
  std::string line = text.substr(0, text.find('\n'));
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == ':')) line.pop_back();
  return line;
}

// A chat message is read at a glance; a provider's answer may be a whole page.
constexpr std::size_t kMaxText = 1000;
constexpr std::size_t kMaxLines = 5;

// A step's error as the console shows it (its address not repeated), in a few lines.
std::string StepError(const std::string& address, const std::string& error) {
  std::string text = StepErrorText(address, error, "");
  std::size_t at = std::string::npos;
  for (std::size_t lines = 0, from = 0; lines < kMaxLines; ++lines, from = at + 1)
    if ((at = text.find('\n', from)) == std::string::npos) break;
  if (at != std::string::npos) text = text.substr(0, at) + "\n...";
  return text;
}

}  // namespace

std::string SlackEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '&') out += "&amp;";
    else if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else out += c;
  }
  return out;
}

Notifier::Notifier(Progress& out, const NotifySpec& settings, std::string url, std::string spec_name, std::string op)
    : out_(out),
      settings_(settings),
      spec_name_(std::move(spec_name)),
      op_(std::move(op)),
      sender_(std::make_unique<WebhookSender>(std::move(url), [this](const std::string& line) { out_.Note(line); })),
      send_([this](std::string body) { sender_->Post(std::move(body)); }),
      title_("*" + spec_name_ + "*") {}

Notifier::Notifier(Progress& out, const NotifySpec& settings, std::string spec_name, std::string op,
                   std::function<void(std::string)> send)
    : out_(out),
      settings_(settings),
      spec_name_(std::move(spec_name)),
      op_(std::move(op)),
      send_(std::move(send)),
      title_("*" + spec_name_ + "*") {}

void Notifier::Send(const std::string& event, const std::string& text, const std::function<void(JsonEvents&)>& write) {
  if (!settings_.Wants(event)) return;
  std::string line;
  {
    std::lock_guard<std::mutex> g(mu_);
    line = title_ + ": " + text;
  }
  if (line.size() > kMaxText) line = line.substr(0, kMaxText) + "...";
  nlohmann::ordered_json body;
  if (settings_.format == "json") {
    std::ostringstream written;
    JsonEvents json(written);
    write(json);
    body = nlohmann::ordered_json::parse(written.str(), nullptr, false);
    if (!body.is_object()) body = nlohmann::ordered_json::object();  // never: the writer writes objects
    body["notify"] = event;
    body["spec_name"] = spec_name_;
    body["text"] = line;
  } else {
    body["text"] = SlackEscape(line);
  }
  // Replaced, not refused: a provider's message may hold bytes that are not UTF-8.
  send_(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void Notifier::RunStarted(const nlohmann::json& fields) {
  // Set before any other event: the run's events come after it.
  {
    std::lock_guard<std::mutex> g(mu_);
    std::string env = fields.value("env", "");
    if (!env.empty()) title_ = "*" + spec_name_ + "* (" + env + ")";
    target_ = fields.value(op_ == "rollback" ? "to" : "through", "");
  }
  std::string by = LockInfo::Mine(op_).user;
  if (op_ == "rollback")
    Send("rollback_started", "rollback to " + target_ + " started by " + by,
         [&](JsonEvents& j) { j.Emit("run_started", fields); });
  else
    Send("apply_started", "apply started (through stage " + target_ + ") by " + by,
         [&](JsonEvents& j) { j.Emit("run_started", fields); });
}

void Notifier::ConfirmWaiting(const std::string& stage, const std::string& confirm) {
  Send("confirm_waiting", "waiting for confirmation to start stage " + stage + ": " + confirm, [&](JsonEvents& j) {
    j.Emit("confirm_waiting", {{"stage", stage}, {"confirm", confirm}});
  });
}

void Notifier::RunFinished(const nlohmann::json& fields, const std::string& summary) {
  std::string result = fields.value("result", "");
  auto write = [&](JsonEvents& j) { j.Emit("run_finished", fields); };
  if (result == "ok") {
    if (op_ == "rollback") Send("rollback_complete", "rollback to " + target_ + " complete: " + summary, write);
    else Send("apply_complete", "apply complete through stage " + target_ + ": " + summary, write);
  } else {
    // "failed" said loudly, as the console paints it; "stopped" and "interrupted" as they are.
    std::string how = result == "failed" ? "FAILED" : result;
    std::string why = FirstLine(fields.value("error", ""));
    std::string text = (op_ == "rollback" ? "rollback to " + target_ : std::string("apply")) + " " + how +
                       (why.empty() ? "" : ": " + why) + " (done before it stopped: " + summary + ")";
    Send(op_ == "rollback" ? "rollback_failed" : "apply_failed", text, write);
  }
}

void Notifier::Finish(std::chrono::milliseconds drain) {
  if (sender_) sender_->Finish(drain);
}

void Notifier::StageStarted(const std::string& stage, std::size_t steps) {
  out_.StageStarted(stage, steps);
  {
    std::lock_guard<std::mutex> g(mu_);
    stage_ = stage;
    stage_started_[stage] = std::chrono::steady_clock::now();
    first_failure_.erase(stage);
  }
  // A rollback runs as one stage of its own; rollback_started and _complete say it.
  if (op_ != "apply") return;
  Send("stage_started", "stage " + stage + " started: " + std::to_string(steps) + " step" + (steps == 1 ? "" : "s"),
       [&](JsonEvents& j) { j.StageStarted(stage, steps); });
}

void Notifier::StageFinished(const std::string& stage, const StageOutcome& outcome) {
  out_.StageFinished(stage, outcome);
  if (op_ != "apply") return;
  std::string took, failure;
  {
    std::lock_guard<std::mutex> g(mu_);
    auto it = stage_started_.find(stage);
    if (it != stage_started_.end())
      took = FormatDuration(
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - it->second));
    auto f = first_failure_.find(stage);
    if (f != first_failure_.end()) failure = f->second;
  }
  auto write = [&](JsonEvents& j) { j.StageFinished(stage, outcome); };
  if (outcome.complete) {
    Send("stage_complete", "stage " + stage + " complete" + (took.empty() ? "" : " in " + took), write);
  } else if (outcome.interrupted) {
    Send("stage_failed", "stage " + stage + " interrupted" + (failure.empty() ? "" : ": " + failure), write);
  } else {
    if (failure.empty())
      failure = std::to_string(outcome.failed) + " failed, " + std::to_string(outcome.not_run) + " not run";
    Send("stage_failed", "stage " + stage + " FAILED: " + failure, write);
  }
}

void Notifier::StepStarted(const std::string& address, Action action) { out_.StepStarted(address, action); }

void Notifier::StepFinished(const std::string& address, Action action, const std::string& error,
                            std::chrono::milliseconds took) {
  out_.StepFinished(address, action, error, took);
  if (error.empty()) return;
  std::lock_guard<std::mutex> g(mu_);
  first_failure_.emplace(stage_, address + ": " + StepError(address, error));
}

void Notifier::CheckWaiting(const std::string& address, const std::string& detail, std::chrono::milliseconds waited,
                            std::chrono::milliseconds timeout) {
  out_.CheckWaiting(address, detail, waited, timeout);
  if (waited < settings_.check_failing_after) return;
  {
    std::lock_guard<std::mutex> g(mu_);
    if (!failing_said_.insert(address).second) return;
  }
  Send("check_failing",
       address + " not holding for " + FormatDuration(waited) + (detail.empty() ? "" : ": " + FirstLine(detail)),
       [&](JsonEvents& j) { j.CheckWaiting(address, detail, waited, timeout); });
}

void Notifier::Note(const std::string& line) { out_.Note(line); }

void Notifier::Watching(const std::string& stage, std::chrono::milliseconds watched, std::chrono::milliseconds window,
                        const std::string& detail) {
  out_.Watching(stage, watched, window, detail);
}

std::unique_ptr<Notifier> OpenNotifier(const Spec& spec, const std::string& op, Progress& out) {
  if (!spec.notify || spec.notify->events.empty()) return nullptr;
  const NotifySpec& n = *spec.notify;
  std::string url = n.webhook;
  if (n.webhook_secret) {
    auto read = ResolveSecret(n.webhook, spec.dir);
    if (!read) {
      out.Note("warning: the webhook (" + n.webhook + ") cannot be read: " + read.error().message +
               "; the run goes on without it");
      return nullptr;
    }
    url = *read;
    while (!url.empty() && std::isspace(static_cast<unsigned char>(url.back()))) url.pop_back();
    if (url.rfind("https://", 0) != 0 && url.rfind("http://", 0) != 0) {
      out.Note("warning: the webhook (" + n.webhook +
               ") does not hold an https:// or http:// URL; the run goes on without it");
      return nullptr;
    }
  }
  return std::make_unique<Notifier>(out, n, std::move(url), spec.name, op);
}

}  // namespace reconcile
