#include "engine/run/timings.h"

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <variant>

#include "engine/duration.h"
#include "engine/journal/records.h"
#include "engine/os_calls.h"

namespace reconcile {

namespace {

using Clock = std::chrono::system_clock;

// The stage a record of `run` belongs to, begun where the one before it ended.
StageTime& StageFor(RunTime& run, const std::string& name, Clock::time_point at) {
  if (run.stages.empty() || run.stages.back().name != name) {
    StageTime st;
    st.name = name;
    st.started = run.stages.empty() ? run.started : run.stages.back().ended;
    st.ended = at;
    run.stages.push_back(std::move(st));
  }
  return run.stages.back();
}

// The step `address` of `run` still waiting for its outcome, latest first.
StepTime* OpenStep(RunTime& run, const std::string& address) {
  for (auto st = run.stages.rbegin(); st != run.stages.rend(); ++st)
    for (auto step = st->steps.rbegin(); step != st->steps.rend(); ++step)
      if (step->address == address && !step->finished) return &*step;
  return nullptr;
}

std::string EnvName(const std::string& env) { return env.empty() ? "runs without --env" : env + " runs"; }

}  // namespace

std::chrono::milliseconds Between(Clock::time_point a, Clock::time_point b) {
  return std::max(std::chrono::milliseconds(0), std::chrono::duration_cast<std::chrono::milliseconds>(b - a));
}

std::string ShowTime(Clock::time_point t) {
  std::time_t tt = Clock::to_time_t(t);
  std::tm tm;
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::vector<RunTime> RunsOf(const std::vector<JournalRecord>& records) {
  std::vector<RunTime> runs;
  RunTime* run = nullptr;
  for (const JournalRecord& rec : records) {
    auto when = ParseUtc(rec.at);
    auto entry = journal::Decode(rec);
    if (!when || !entry) continue;
    Clock::time_point at = when->at;
    if (auto* b = std::get_if<journal::Begin>(&*entry)) {
      RunTime r;
      r.seq = rec.seq;
      r.op = b->op;
      r.env = b->env;
      r.holder = b->holder;
      r.through = b->through;
      r.to = b->to;
      r.started = r.ended = at;
      r.result = "cut off";
      runs.push_back(std::move(r));
      run = &runs.back();
      continue;
    }
    // Records outside a run (a step cut off by a kill, closed by the next run before it
    // begins) time nothing.
    if (!run || run->result != "cut off") continue;
    if (auto* d = std::get_if<journal::Done>(&*entry); d && d->closes) continue;
    run->ended = at;
    std::string rollback_stage = "rollback to " + run->to;
    if (auto* i = std::get_if<journal::Intent>(&*entry)) {
      StageTime& st = StageFor(*run, run->op == "rollback" ? rollback_stage : i->stage, at);
      st.ended = at;
      StepTime step;
      step.address = i->address;
      step.action = i->action;
      step.started = step.ended = at;
      st.steps.push_back(std::move(step));
    } else if (auto* d = std::get_if<journal::Done>(&*entry)) {
      if (StepTime* step = OpenStep(*run, d->address)) {
        step->ended = at;
        step->finished = step->ok = true;
      }
      if (!run->stages.empty()) run->stages.back().ended = at;
    } else if (auto* f = std::get_if<journal::Failed>(&*entry)) {
      if (StepTime* step = OpenStep(*run, f->address)) {
        step->ended = at;
        step->finished = true;
        step->error = f->error;
      }
      if (!run->stages.empty()) run->stages.back().ended = at;
    } else if (auto* c = std::get_if<journal::StageComplete>(&*entry)) {
      StageTime& st = StageFor(*run, c->stage, at);
      st.ended = at;
      st.complete = true;
    } else if (std::get_if<journal::RollbackComplete>(&*entry)) {
      StageTime& st = StageFor(*run, rollback_stage, at);
      st.ended = at;
      st.complete = true;
    } else if (auto* e = std::get_if<journal::End>(&*entry)) {
      run->result = e->result;
      run = nullptr;
    }
  }
  return runs;
}

Timings TimingsOf(const std::vector<RunTime>& runs) {
  Timings t;
  Clock::time_point latest{};
  for (const RunTime& run : runs) {
    if (run.op != "apply") continue;
    for (const StageTime& st : run.stages) {
      if (!st.complete) continue;
      t.stages[st.name] = Between(st.started, st.ended);
      for (const StepTime& step : st.steps)
        if (step.finished && step.ok) t.steps[step.address] = Between(step.started, step.ended);
      if (st.ended >= latest) {
        latest = st.ended;
        t.env = run.env;
      }
    }
  }
  if (!t.Empty()) t.source = "the " + EnvName(t.env) + ", the last on " + ShowTime(latest) + " UTC";
  return t;
}

nlohmann::json TimingsToJson(const Spec& spec, const Timings& timings) {
  nlohmann::json out = {{"format", "reconcile-timings"},
                        {"version", 1},
                        {"spec", spec.name},
                        {"env", timings.env},
                        {"source", timings.source}};
  out["stages"] = nlohmann::json::object();
  for (const auto& [name, ms] : timings.stages) out["stages"][name] = ms.count();
  out["steps"] = nlohmann::json::object();
  for (const auto& [address, ms] : timings.steps) out["steps"][address] = ms.count();
  return out;
}

Result<Timings> ReadTimings(const std::string& path) {
  std::string text;
  if (int err = ReadWholeFile(path, 64u << 20, &text); err != 0)
    return Error{"cannot read the timings file " + path + ": " + ErrnoText(err)};
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  auto bad = [&](const std::string& why) {
    return Error{path + " is not a timings file reconcile can read (" + why +
                 "); write one with reconcile history SPEC --export FILE"};
  };
  if (doc.is_discarded()) return bad("it is not JSON");
  if (!doc.is_object() || doc.value("format", "") != "reconcile-timings")
    return bad("its format is not reconcile-timings");
  if (doc.value("version", 0) != 1) return bad("its version is not 1");
  Timings t;
  t.env = doc.value("env", "");
  t.source = doc.value("source", "") + " (" + path + ")";
  for (const char* part : {"stages", "steps"}) {
    if (!doc.contains(part) || !doc[part].is_object()) return bad(std::string("'") + part + "' is not an object");
    for (auto& [name, ms] : doc[part].items()) {
      if (!ms.is_number_unsigned()) return bad(std::string("'") + part + "." + name + "' is not milliseconds");
      (std::string(part) == "stages" ? t.stages : t.steps)[name] = std::chrono::milliseconds(ms.get<std::int64_t>());
    }
  }
  return t;
}

Timings LastRehearsal(const Spec& spec) {
  if (spec.state_url || spec.state_path.empty()) return {};
  namespace fs = std::filesystem;
  fs::path own = spec.state_path;
  std::error_code ec;
  Timings best;
  std::string best_path;
  Clock::time_point best_at{};
  for (const fs::directory_entry& e : fs::directory_iterator(own.parent_path(), ec)) {
    std::string file = e.path().filename().string();
    bool same_spec =
        file == spec.name + ".journal" ||
        (file.rfind(spec.name + ".", 0) == 0 && file.size() > spec.name.size() + 9 &&
         file.compare(file.size() - 8, 8, ".journal") == 0 && file.find('.', spec.name.size() + 1) == file.size() - 8);
    if (!same_spec || e.path() == own || !e.is_regular_file()) continue;
    auto records = OpenFileJournal(e.path().string())->Read();
    if (!records) continue;
    std::vector<RunTime> runs = RunsOf(*records);
    Timings t = TimingsOf(runs);
    if (t.Empty()) continue;
    Clock::time_point at{};
    for (const RunTime& r : runs)
      for (const StageTime& st : r.stages)
        if (r.op == "apply" && st.complete) at = std::max(at, st.ended);
    if (best.Empty() || at > best_at) {
      best = std::move(t);
      best_at = at;
      best_path = e.path().string();
    }
  }
  if (!best.Empty()) best.source += " (" + best_path + ")";
  return best;
}

std::string RehearsalText(const Spec& spec, const Timings& timings) {
  if (timings.Empty()) return "";
  std::size_t width = 0;
  for (const StageSpec& st : spec.stages) width = std::max(width, st.name.size());
  std::chrono::milliseconds all{0}, down{0};
  bool in_downtime = false, downtime = false;
  std::string lines;
  for (const StageSpec& st : spec.stages) {
    if (st.downtime == "starts") in_downtime = downtime = true;
    auto it = timings.stages.find(st.name);
    std::string took = it == timings.stages.end() ? "not rehearsed" : FormatDuration(it->second);
    if (it != timings.stages.end()) {
      all += it->second;
      if (in_downtime) down += it->second;
    }
    lines += "  " + st.name + std::string(width - st.name.size() + 2, ' ') + took +
             (st.downtime.empty() ? "" : "  (downtime " + st.downtime + ")") + "\n";
    if (st.downtime == "ends") in_downtime = false;
  }
  std::string out = "Rehearsed: " + timings.source + ": " + FormatDuration(all) + " in all.\n" + lines;
  if (downtime)
    out += "Downtime: " + FormatDuration(down) + ", from the stage marked downtime = \"starts\" to the end of " +
           (std::any_of(spec.stages.begin(), spec.stages.end(), [](const StageSpec& s) { return s.downtime == "ends"; })
                ? "the one marked \"ends\".\n"
                : "the last stage (none is marked \"ends\").\n");
  return out;
}

}  // namespace reconcile
