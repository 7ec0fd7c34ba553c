#include "engine/exec/tally.h"

#include <algorithm>

#include "engine/duration.h"

namespace reconcile {

void Tally::StageStarted(const std::string& stage, std::size_t steps) {
  {
    std::lock_guard<std::mutex> g(mu_);
    StageTally t;
    t.stage = stage;
    t.started = std::chrono::steady_clock::now();
    stages_.push_back(std::move(t));
  }
  out_.StageStarted(stage, steps);
}

void Tally::StageFinished(const std::string& stage, const StageOutcome& outcome) {
  {
    std::lock_guard<std::mutex> g(mu_);
    if (!stages_.empty() && !stages_.back().finished) {
      stages_.back().took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                                  stages_.back().started);
      stages_.back().finished = true;
      stages_.back().outcome = outcome;
    }
  }
  out_.StageFinished(stage, outcome);
}

void Tally::StepStarted(const std::string& address, Action action) { out_.StepStarted(address, action); }

void Tally::StepFinished(const std::string& address, Action action, const std::string& error,
                         std::chrono::milliseconds took) {
  {
    std::lock_guard<std::mutex> g(mu_);
    // Failures are counted from the stage's outcome, which has those that never started too.
    if (!stages_.empty() && error.empty()) {
      StageTally& t = stages_.back();
      if (action == Action::kNone) ++t.already_done;
      else if (action == Action::kCreate) ++t.created;
      else if (action == Action::kUpdate) ++t.updated;
      else if (action == Action::kDelete) ++t.deleted;
      else if (action == Action::kCheck) ++t.checks;
    }
  }
  out_.StepFinished(address, action, error, took);
}

void Tally::CheckWaiting(const std::string& address, const std::string& detail, std::chrono::milliseconds waited,
                         std::chrono::milliseconds timeout) {
  out_.CheckWaiting(address, detail, waited, timeout);
}

void Tally::Note(const std::string& line) { out_.Note(line); }

std::vector<StageTally> Tally::Stages() const {
  std::lock_guard<std::mutex> g(mu_);
  std::vector<StageTally> out = stages_;
  auto now = std::chrono::steady_clock::now();
  for (StageTally& t : out)
    if (!t.finished) t.took = std::chrono::duration_cast<std::chrono::milliseconds>(now - t.started);
  return out;
}

std::string CountsText(const StageTally& t) {
  std::string s;
  auto add = [&](std::size_t n, const char* one, const char* many) {
    if (n == 0) return;
    s += (s.empty() ? "" : ", ") + std::to_string(n) + " " + (n == 1 ? one : many);
  };
  add(t.created, "created", "created");
  add(t.updated, "updated", "updated");
  add(t.deleted, "deleted", "deleted");
  add(t.checks, "check held", "checks held");
  add(t.already_done, "already done", "already done");
  add(t.outcome.failed, "failed", "failed");
  add(t.outcome.not_run, "not run", "not run");
  return s.empty() ? "no changes" : s;
}

namespace {

StageTally Sum(const std::vector<StageTally>& stages) {
  StageTally all;
  for (const StageTally& t : stages) {
    all.created += t.created;
    all.updated += t.updated;
    all.deleted += t.deleted;
    all.checks += t.checks;
    all.already_done += t.already_done;
    all.outcome.failed += t.outcome.failed;
    all.outcome.not_run += t.outcome.not_run;
  }
  return all;
}

const char* StateOf(const StageTally& t) {
  return !t.finished ? "running" : t.outcome.interrupted ? "interrupted" : !t.outcome.complete ? "failed" : "complete";
}

nlohmann::json CountsJson(const StageTally& t) {
  return {{"created", t.created},        {"updated", t.updated},           {"deleted", t.deleted},
          {"checks", t.checks},          {"already_done", t.already_done}, {"failed", t.outcome.failed},
          {"not_run", t.outcome.not_run}};
}

}  // namespace

std::string Tally::Summary() const {
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_);
  return CountsText(Sum(Stages())) + ", in " + FormatDuration(took);
}

nlohmann::json Tally::ToJson() const {
  std::vector<StageTally> stages = Stages();
  nlohmann::json out = {{"counts", CountsJson(Sum(stages))}, {"stages", nlohmann::json::array()}};
  out["ms"] =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started_).count();
  for (const StageTally& t : stages)
    out["stages"].push_back(
        {{"stage", t.stage}, {"counts", CountsJson(t)}, {"ms", t.took.count()}, {"state", StateOf(t)}});
  return out;
}

std::string Tally::StageLines() const {
  std::vector<StageTally> stages = Stages();
  std::size_t name_width = 0, counts_width = 0;
  for (const StageTally& t : stages) {
    name_width = std::max(name_width, t.stage.size());
    counts_width = std::max(counts_width, CountsText(t).size());
  }
  std::string out;
  for (const StageTally& t : stages) {
    std::string counts = CountsText(t);
    out += "  " + t.stage + std::string(name_width - t.stage.size() + 2, ' ') + counts +
           std::string(counts_width - counts.size() + 2, ' ') + FormatDuration(t.took) +
           (std::string(StateOf(t)) == "complete" ? "" : std::string(" (") + StateOf(t) + ")") + "\n";
  }
  return out;
}

}  // namespace reconcile
