#include "engine/exec/executor.h"

#include <algorithm>
#include <csignal>
#include <condition_variable>
#include <thread>
#include <unistd.h>

#include "engine/duration.h"

namespace reconcile {

std::atomic<int> g_interrupts{0};

namespace {

void OnInterrupt(int) {
  if (g_interrupts.fetch_add(1) >= 1) {
    // Second Ctrl-C: every journal record already written is whole; leave now.
    static const char kMsg[] = "\nreconcile: interrupted again; exiting now (the journal is intact)\n";
    (void)!::write(2, kMsg, sizeof kMsg - 1);
    ::_exit(130);
  }
  static const char kMsg[] =
      "\nreconcile: interrupted; finishing the steps in flight and recording them (Ctrl-C again to exit now)\n";
  (void)!::write(2, kMsg, sizeof kMsg - 1);
}

}  // namespace

void InstallInterruptHandler() {
  struct sigaction sa {};
  sa.sa_handler = OnInterrupt;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

std::string Executor::InstanceKey(const Resource& r) const {
  return r.provider->name() + ":" + (r.provider_instance.empty() ? r.host : r.provider_instance);
}

Result<Target> Executor::TargetFor(const Step& step) {
  std::lock_guard<std::mutex> g(configs_mu_);
  return reconcile::TargetFor(ctx_.spec, ctx_.spec.resources[step.resource], step.desired.attrs, &configs_);
}

std::vector<StepResult> Executor::RunBatch(const std::vector<const Step*>& steps, const std::string& stage) {
  std::vector<StepResult> results(steps.size());
  std::vector<Change> changes;
  std::vector<std::size_t> which;  // changes[k] is steps[which[k]]
  std::vector<JournalRecord> intents;
  auto sealer_for = [this](const Resource& r) {
    return [this, res = &r](const std::string& attr) { return IsSensitive(ctx_.spec, *res, attr); };
  };
  // A step whose state its dependencies' steps in this stage can change (a sync whose source
  // bucket was just filled) is read again now, so what it journals as prior is what it changes.
  std::vector<Step> fresh;
  fresh.reserve(steps.size());
  std::vector<bool> settled(steps.size(), false);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const Step& step = *steps[i];
    const Resource& r = ctx_.spec.resources[step.resource];
    if (step.after.empty() || !r.schema->probe_when_run || step.action == Action::kCheck) continue;
    std::vector<std::optional<State>> want(ctx_.spec.resources.size());
    want[step.resource] = step.desired;
    auto probed = ProbeResources(ctx_.spec, want);
    if (!probed) {
      results[i] = {false, false, probed.error().message};
      settled[i] = true;
      continue;
    }
    Diff d = CompareResource(r, (*probed)[step.resource], step.desired);
    if (d.action == Action::kNone) {
      ctx_.progress.StepStarted(r.address, step.action);
      ctx_.progress.StepFinished(r.address, step.action, "", std::chrono::milliseconds(0));
      results[i] = {true, true, ""};
      settled[i] = true;
      continue;
    }
    Step again = StepFrom(ctx_.spec, step.resource, step.stage, std::move(d), std::move((*probed)[step.resource]),
                          step.desired);
    again.reason = step.reason;
    again.after = step.after;
    fresh.push_back(std::move(again));
  }
  std::size_t next_fresh = 0;
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (settled[i]) continue;
    const Step& step = [&]() -> const Step& {
      const Step& s = *steps[i];
      const Resource& res = ctx_.spec.resources[s.resource];
      if (s.after.empty() || !res.schema->probe_when_run || s.action == Action::kCheck) return s;
      return fresh[next_fresh++];
    }();
    const Resource& r = ctx_.spec.resources[step.resource];
    auto target = TargetFor(step);
    if (!target) {
      results[i] = {false, false, target.error().message};
      continue;
    }
    intents.push_back({0, "", "intent",
                       {{"op", ctx_.op},
                        {"stage", stage},
                        {"address", r.address},
                        {"type", r.type},
                        {"action", ActionName(step.action)},
                        {"prior", ctx_.sealer.Seal(step.prior, sealer_for(r))},
                        {"desired", ctx_.sealer.Seal(step.desired, sealer_for(r))}}});
    Change change{step.action, std::move(*target), step.prior, {}, {}};
    change.report = [this, address = r.address](const std::string& line) { ctx_.progress.Note(address + ": " + line); };
    for (const AttrChange& c : step.changes) change.changed.push_back(c.name);
    changes.push_back(std::move(change));
    which.push_back(i);
  }
  if (changes.empty()) return results;
  // Nothing runs that the journal has not durably announced.
  if (Status s = ctx_.journal.AppendAll(&intents); !s) {
    for (std::size_t i : which) results[i] = {false, false, s.message()};
    return results;
  }
  for (std::size_t i : which) ctx_.progress.StepStarted(ctx_.spec.resources[steps[i]->resource].address, steps[i]->action);

  auto start = std::chrono::steady_clock::now();
  const Resource& first = ctx_.spec.resources[steps[which[0]]->resource];
  std::vector<Result<State>> after =
      changes.size() == 1 ? std::vector<Result<State>>{first.provider->Apply(changes[0])} : first.provider->ApplyBatch(changes);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);

  std::vector<JournalRecord> outcomes;
  for (std::size_t k = 0; k < which.size(); ++k) {
    const Step& step = *steps[which[k]];
    const Resource& r = ctx_.spec.resources[step.resource];
    if (k >= after.size()) after.push_back(Error{"the provider returned no state"});
    if (after[k])
      outcomes.push_back({0, "", "done",
                          {{"op", ctx_.op}, {"stage", stage}, {"address", r.address},
                           {"state", ctx_.sealer.Seal(*after[k], sealer_for(r))}}});
    else
      outcomes.push_back({0, "", "failed",
                          {{"op", ctx_.op}, {"stage", stage}, {"address", r.address}, {"error", after[k].error().message}}});
  }
  Status journaled = ctx_.journal.AppendAll(&outcomes);
  for (std::size_t k = 0; k < which.size(); ++k) {
    const Step& step = *steps[which[k]];
    const Resource& r = ctx_.spec.resources[step.resource];
    ctx_.progress.StepFinished(r.address, step.action, after[k] ? std::string() : after[k].error().message, took);
    if (!after[k]) results[which[k]] = {true, false, after[k].error().message};
    else if (!journaled) results[which[k]] = {true, false, "applied, but the journal could not record it: " + journaled.message()};
    else results[which[k]] = {true, true, ""};
  }
  return results;
}

std::vector<StepResult> Executor::RunSteps(const std::vector<Step>& steps, const std::string& stage) {
  std::vector<StepResult> results(steps.size());
  std::map<std::size_t, std::size_t> step_of;  // resource → index in steps
  for (std::size_t i = 0; i < steps.size(); ++i) step_of[steps[i].resource] = i;
  auto is_check = [&](std::size_t i) { return steps[i].action == Action::kCheck; };

  // What each step waits for: the steps of this stage it is `after` (checks included: a
  // resource after a check starts once the check holds), and for a check, every change of
  // the stage that does not itself wait on it — checks gate the stage, after its changes.
  std::vector<std::vector<std::size_t>> waits(steps.size());
  for (std::size_t i = 0; i < steps.size(); ++i)
    for (std::size_t dep : steps[i].after)
      if (auto it = step_of.find(dep); it != step_of.end() && it->second != i) waits[i].push_back(it->second);
  std::vector<std::vector<std::size_t>> waited_by(steps.size());
  for (std::size_t i = 0; i < steps.size(); ++i)
    for (std::size_t w : waits[i]) waited_by[w].push_back(i);
  for (std::size_t c = 0; c < steps.size(); ++c) {
    if (!is_check(c)) continue;
    // What waits on c, directly or not: one walk along the reverse edges.
    std::vector<bool> behind(steps.size(), false);
    std::vector<std::size_t> todo = {c};
    while (!todo.empty()) {
      std::size_t at = todo.back();
      todo.pop_back();
      for (std::size_t d : waited_by[at])
        if (!behind[d]) behind[d] = true, todo.push_back(d);
    }
    std::vector<bool> already(steps.size(), false);
    for (std::size_t w : waits[c]) already[w] = true;
    for (std::size_t i = 0; i < steps.size(); ++i)
      if (!is_check(i) && !behind[i] && !already[i]) waits[c].push_back(i);
  }

  enum class St { kWaiting, kRunning, kDone };
  std::vector<St> state(steps.size(), St::kWaiting);
  std::size_t remaining = steps.size();
  std::size_t running = 0;
  std::map<std::string, std::size_t> per_instance;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::thread> threads;

  // Batch keys come from the providers, once per step.
  std::map<const Step*, std::string> batch_keys;
  auto BatchKeyOf = [&](const Step& step) -> const std::string& {
    auto it = batch_keys.find(&step);
    if (it != batch_keys.end()) return it->second;
    const Resource& r = ctx_.spec.resources[step.resource];
    auto target = TargetFor(step);
    return batch_keys[&step] = target ? r.provider->BatchKey(*target) : std::string();
  };
  auto ready = [&](std::size_t i) {
    return std::all_of(waits[i].begin(), waits[i].end(), [&](std::size_t w) { return state[w] == St::kDone; });
  };

  std::unique_lock<std::mutex> lock(mu);
  while (remaining > 0) {
    bool progressed = false;
    for (std::size_t i = 0; i < steps.size(); ++i) {
      if (state[i] != St::kWaiting) continue;
      const Step& step = steps[i];
      // Blocked by a step that failed or did not run (a check that did not hold): this one
      // does not run either.
      std::string blocked_by;
      for (std::size_t w : waits[i])
        if (state[w] == St::kDone && !results[w].ok) blocked_by = ctx_.spec.resources[steps[w].resource].address;
      if (!blocked_by.empty()) {
        results[i] = {false, false, "not run: it depends on " + blocked_by + ", which did not succeed"};
        state[i] = St::kDone;
        --remaining;
        progressed = true;
        continue;
      }
      if (g_interrupts.load() > 0) {
        results[i] = {false, false, "not run: interrupted"};
        state[i] = St::kDone;
        --remaining;
        progressed = true;
        continue;
      }
      if (!ready(i)) continue;
      if (is_check(i)) {
        // A check waits (polls) without taking a slot of the limits: it changes nothing.
        state[i] = St::kRunning;
        threads.emplace_back([&, i] {
          StepResult res = RunCheck(steps[i]);
          std::lock_guard<std::mutex> g(mu);
          results[i] = std::move(res);
          state[i] = St::kDone;
          --remaining;
          cv.notify_all();
        });
        progressed = true;
        continue;
      }
      const Resource& r = ctx_.spec.resources[step.resource];
      std::string key = InstanceKey(r);
      if (running >= ctx_.parallelism || per_instance[key] >= ctx_.per_instance) continue;
      // Every other ready step of the same batch goes with this one.
      std::vector<std::size_t> batch = {i};
      std::string batch_key = BatchKeyOf(steps[i]);
      if (!batch_key.empty()) {
        for (std::size_t j = 0; j < steps.size(); ++j) {
          if (j == i || is_check(j) || state[j] != St::kWaiting || BatchKeyOf(steps[j]) != batch_key) continue;
          bool other_ready = std::all_of(waits[j].begin(), waits[j].end(),
                                         [&](std::size_t w) { return state[w] == St::kDone && results[w].ok; });
          if (other_ready) batch.push_back(j);
        }
      }
      for (std::size_t j : batch) state[j] = St::kRunning;
      ++running;
      ++per_instance[key];
      threads.emplace_back([&, batch, key] {
        std::vector<const Step*> mine;
        for (std::size_t j : batch) mine.push_back(&steps[j]);
        std::vector<StepResult> res = RunBatch(mine, stage);
        std::lock_guard<std::mutex> g(mu);
        for (std::size_t k = 0; k < batch.size(); ++k) {
          results[batch[k]] = std::move(res[k]);
          state[batch[k]] = St::kDone;
          --remaining;
        }
        --running;
        --per_instance[key];
        cv.notify_all();
      });
      progressed = true;
    }
    if (remaining == 0) break;
    if (!progressed) cv.wait(lock);
  }
  lock.unlock();
  for (std::thread& t : threads) t.join();
  return results;
}

std::string Failures(const Spec& spec, const std::vector<Step>& steps, const std::vector<StepResult>& results) {
  std::string out;
  for (std::size_t i = 0; i < results.size(); ++i)
    if (!results[i].ok) out += "\n  " + spec.resources[steps[i].resource].address + ": " + results[i].error;
  return out;
}

StepResult Executor::RunCheck(const Step& step) {
  const Resource& r = ctx_.spec.resources[step.resource];
  auto target = TargetFor(step);
  if (!target) return {true, false, target.error().message};
  auto text = [&](const char* key, const char* fallback) {
    auto it = step.desired.attrs.find(key);
    const std::string* s = it == step.desired.attrs.end() ? nullptr : AsString(it->second);
    return s ? *s : std::string(fallback);
  };
  auto timeout = ParseDuration(text("timeout", "5m")).value_or(std::chrono::minutes(5));
  auto interval = ParseDuration(text("interval", "5s")).value_or(std::chrono::seconds(5));
  auto start = std::chrono::steady_clock::now();
  ctx_.progress.StepStarted(r.address, Action::kCheck);
  while (true) {
    auto result = r.provider->Check(*target);
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    if (!result) {
      ctx_.progress.StepFinished(r.address, Action::kCheck, result.error().message, waited);
      return {true, false, result.error().message};
    }
    if (result->holds) {
      ctx_.progress.StepFinished(r.address, Action::kCheck, "", waited);
      return {true, true, ""};
    }
    if (waited >= timeout) {
      std::string why = "did not hold within " + FormatDuration(timeout) + ": " + result->detail;
      ctx_.progress.StepFinished(r.address, Action::kCheck, why, waited);
      return {true, false, why};
    }
    ctx_.progress.CheckWaiting(r.address, result->detail, waited, timeout);
    // Sleep in small slices so Ctrl-C is answered promptly.
    auto until = std::chrono::steady_clock::now() + std::min(interval, timeout - waited);
    while (std::chrono::steady_clock::now() < until) {
      if (g_interrupts.load() > 0) return {true, false, "interrupted while waiting"};
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
}

Status Executor::RunChecks(const std::vector<Step>& steps) {
  for (const Step& step : steps) {
    if (step.action != Action::kCheck) continue;
    StepResult r = RunCheck(step);
    if (!r.ok) {
      const std::string& address = ctx_.spec.resources[step.resource].address;
      return Error{address + (r.error.rfind("did not hold", 0) == 0 ? " " : ": ") + r.error};
    }
  }
  return Status::Ok();
}

}  // namespace reconcile
