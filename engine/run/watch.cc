#include "engine/run/watch.h"

#include <algorithm>
#include <thread>

#include "engine/duration.h"

namespace reconcile {

namespace {

// A watch asks the same checks over and over: a line per ask would bury the screen. Only a
// check in trouble (waiting to hold again) is said.
class QuietChecks : public Progress {
 public:
  explicit QuietChecks(Progress& out) : out_(out) {}
  void StageStarted(const std::string&, std::size_t) override {}
  void StepStarted(const std::string&, Action) override {}
  // The one that fails is said, as at the stage's end.
  void StepFinished(const std::string& address, Action action, const std::string& error,
                    std::chrono::milliseconds took) override {
    if (!error.empty()) out_.StepFinished(address, action, error, took);
  }
  void CheckWaiting(const std::string& address, const std::string& detail, std::chrono::milliseconds waited,
                    std::chrono::milliseconds timeout) override {
    out_.CheckWaiting(address, detail, waited, timeout);
  }
  void Note(const std::string& line) override { out_.Note(line); }
  void Hold() override { out_.Hold(); }
  void Release() override { out_.Release(); }

 private:
  Progress& out_;
};

}  // namespace

std::chrono::milliseconds WatchEvery(std::chrono::milliseconds window) {
  return std::clamp(window / 10, std::chrono::milliseconds(500), std::chrono::milliseconds(10000));
}

RunEnd WatchStage(const Spec& spec, std::size_t stage, const std::vector<Step>& checks, Executor& executor,
                  Progress& progress) {
  const StageSpec& st = spec.stages[stage];
  std::vector<Step> watched;
  for (const Step& s : checks)
    if (s.action == Action::kCheck) watched.push_back(s);
  for (std::size_t i : st.watch_checks) {
    if (std::any_of(watched.begin(), watched.end(), [&](const Step& s) { return s.resource == i; })) continue;
    const Resource& r = spec.resources[i];
    auto desired = Desired(spec, r, r.stage, true);
    if (!desired)
      return {RunEnd::kFailed, "stage '" + st.name + "' cannot watch " + r.address + ": " + desired.error().message};
    Step s;
    s.resource = i;
    s.stage = r.stage;
    s.action = Action::kCheck;
    s.desired = std::move(*desired);
    watched.push_back(std::move(s));
  }
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto every = WatchEvery(st.watch);
  auto since = [&] { return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start); };
  std::string checks_said = std::to_string(watched.size()) + (watched.size() == 1 ? " check" : " checks");
  progress.Note("stage " + st.name + " is watched for " + FormatDuration(st.watch) + ": " + checks_said +
                " asked every " + FormatDuration(every));
  QuietChecks quiet(progress);
  while (since() < st.watch) {
    // The checks held when the stage's steps ended; the first ask is one interval later.
    auto next = Clock::now() + every;
    while (Clock::now() < next && since() < st.watch) {
      if (g_interrupts.load() > 0)
        return {RunEnd::kInterrupted, "stage '" + st.name + "' was interrupted while it was watched (" +
                                          FormatDuration(since()) + " of " + FormatDuration(st.watch) +
                                          "); its changes are applied; apply again to watch it again"};
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (since() >= st.watch) break;
    for (const Step& s : watched) {
      StepResult r = executor.RunCheck(s, &quiet);
      if (g_interrupts.load() > 0) break;
      if (!r.ok) {
        const std::string& address = spec.resources[s.resource].address;
        return {RunEnd::kFailed,
                "stage '" + st.name + "' failed while it was watched, " + FormatDuration(since()) + " into " +
                    FormatDuration(st.watch) + ": " + address + (r.error.rfind("did not hold", 0) == 0 ? " " : ": ") +
                    r.error,
                stage};
      }
    }
    // A check cut off by Ctrl-C proved nothing, even once the window is over.
    if (g_interrupts.load() > 0)
      return {RunEnd::kInterrupted, "stage '" + st.name + "' was interrupted while it was watched (" +
                                        FormatDuration(since()) + " of " + FormatDuration(st.watch) +
                                        "); its changes are applied; apply again to watch it again"};
    progress.Watching(st.name, since(), st.watch, checks_said + " hold");
  }
  progress.Note("stage " + st.name + ": every check held for the " + FormatDuration(st.watch) + " it was watched");
  return {};
}

}  // namespace reconcile
