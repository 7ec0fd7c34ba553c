#include "engine/exec/executor.h"
#include "engine/journal/records.h"

#include <algorithm>
#include <csignal>
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
  // Output read through a pipe that closes (`| head`) must not kill a run between two steps;
  // the commands it runs get the default back (local_shell.cc).
  ::signal(SIGPIPE, SIG_IGN);
}

std::string Executor::InstanceKey(const Resource& r) const {
  return r.provider->name() + ":" + (r.provider_instance.empty() ? r.host : r.provider_instance);
}

Result<Target> Executor::TargetFor(const Step& step) {
  std::lock_guard<std::mutex> g(configs_mu_);
  return reconcile::TargetFor(ctx_.spec, ctx_.spec.resources[step.resource], step.desired, &configs_);
}

bool Executor::ReadAgain(const Step& step) const {
  const Resource& r = ctx_.spec.resources[step.resource];
  if (step.after.empty() || !r.schema->probe_when_run || step.action == Action::kCheck) return false;
  // A handler runs when notified, whatever its `check` says (that is asked after it ran); the
  // revert of a one-shot step is an event the rollback planned, not a state to read (a command
  // without a check reads as absent, which a revert would take for done).
  return !r.IsHandler() && !(r.IsOnce() && step.action == Action::kDelete);
}

Result<State> Executor::Known(const Step& step) {
  const Resource& r = ctx_.spec.resources[step.resource];
  std::vector<std::size_t> self = {step.resource};
  if (Status read = ReadComputed(ctx_.spec, &self); !read) return read.error();
  auto fresh = Desired(ctx_.spec, r, std::max(r.stage, step.stage), step.action != Action::kCheck);
  if (!fresh) return fresh.error();
  if (!fresh->unknown.empty()) {
    // Named through the values it takes from others, down to the one that is missing.
    std::string missing;
    std::vector<bool> seen(ctx_.spec.resources.size(), false);
    std::vector<std::size_t> todo = {step.resource};
    while (!todo.empty()) {
      std::size_t i = todo.back();
      todo.pop_back();
      if (seen[i]) continue;
      seen[i] = true;
      for (const Dependency& d : ctx_.spec.resources[i].deps) {
        if (d.kind != Dependency::Kind::kReference) continue;
        const std::string& address = ctx_.spec.resources[d.on].address;
        if (!d.computed) todo.push_back(d.on);
        else if (!ctx_.spec.read->Has(d.on) && missing.find(address) == std::string::npos)
          missing += (missing.empty() ? "" : ", ") + address;
      }
    }
    return Error{"'" + fresh->unknown.front() + "' takes what " + (missing.empty() ? "another resource" : missing) +
                 " will be once it exists, and it does not exist yet; apply what makes it first"};
  }
  State known = step.desired;
  for (const std::string& a : step.desired.unknown) known.attrs[a] = fresh->attrs[a];
  known.unknown.clear();
  return known;
}

Result<std::optional<Step>> Executor::AsItRuns(const Step& step) {
  const Resource& r = ctx_.spec.resources[step.resource];
  State desired = step.desired;
  if (!desired.unknown.empty()) {
    auto known = Known(step);
    if (!known) return known.error();
    desired = std::move(*known);
  }
  // A handler and a one-shot step's revert run as planned (ReadAgain): only their values
  // change.
  if (!ReadAgain(step) && (r.IsHandler() || (r.IsOnce() && step.action == Action::kDelete))) {
    Step again = step;
    for (AttrChange& c : again.mutable_changes())
      if (auto it = desired.attrs.find(c.name); c.known_after_apply && it != desired.attrs.end()) {
        c.new_value = it->second;
        c.known_after_apply = false;
      }
    // A revert's prior is the step it undoes, worked out alike.
    for (const std::string& a : again.prior.unknown)
      if (auto it = desired.attrs.find(a); it != desired.attrs.end()) again.prior.attrs[a] = it->second;
    again.prior.unknown.clear();
    again.desired = std::move(desired);
    return std::optional<Step>(std::move(again));
  }
  std::vector<std::optional<State>> want(ctx_.spec.resources.size());
  want[step.resource] = desired;
  auto probed = ProbeResources(ctx_.spec, &want);
  if (!probed) return probed.error();
  Diff d = CompareResource(r, (*probed)[step.resource], desired);
  if (d.action == Action::kNone) return std::optional<Step>();
  Step again =
      StepFrom(ctx_.spec, step.resource, step.stage, std::move(d), std::move((*probed)[step.resource]), desired);
  again.reason = step.reason;
  again.after = step.after;
  return std::optional<Step>(std::move(again));
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
  // bucket was just filled), or whose values they make known, is read again now, so what it
  // journals as prior is what it changes.
  std::vector<std::optional<Step>> redone(steps.size());
  std::vector<bool> settled(steps.size(), false);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const Step& step = *steps[i];
    if (!ReadAgain(step) && step.desired.unknown.empty()) continue;
    const Resource& r = ctx_.spec.resources[step.resource];
    auto now = AsItRuns(step);
    if (!now) {
      results[i] = {false, false, now.error().message};
      settled[i] = true;
    } else if (!*now) {
      // Found done as it was about to run: said as such, not counted as a change made.
      ctx_.progress.StepStarted(r.address, Action::kNone);
      ctx_.progress.StepFinished(r.address, Action::kNone, "", std::chrono::milliseconds(0));
      results[i] = {true, true, ""};
      settled[i] = true;
    } else {
      redone[i] = std::move(**now);
    }
  }
  for (std::size_t i = 0; i < steps.size(); ++i) {
    if (settled[i]) continue;
    const Step& step = redone[i] ? *redone[i] : *steps[i];
    const Resource& r = ctx_.spec.resources[step.resource];
    auto target = TargetFor(step);
    if (!target) {
      results[i] = {false, false, target.error().message};
      continue;
    }
    intents.push_back(journal::Encode(journal::Intent{ctx_.op, stage, r.address, r.type, ActionName(step.action),
                                                      ctx_.sealer.Seal(step.prior, sealer_for(r)),
                                                      ctx_.sealer.Seal(step.desired, sealer_for(r))}));
    Change change{step.action, std::move(*target), step.prior, {}, ctx_.op == "rollback", {}};
    change.report = [this, address = r.address](const std::string& line) { ctx_.progress.Note(address + ": " + line); };
    for (const AttrChange& c : step.changes()) change.changed.push_back(c.name);
    changes.push_back(std::move(change));
    which.push_back(i);
  }
  if (changes.empty()) return results;
  // Nothing runs that the journal has not durably announced.
  if (Status s = ctx_.journal.AppendAll(&intents); !s) {
    for (std::size_t i : which) results[i] = {false, false, s.message(), false, true};
    return results;
  }
  {
    HeldProgress burst(ctx_.progress);
    for (std::size_t i : which) {
      const Step& step = redone[i] ? *redone[i] : *steps[i];
      ctx_.progress.StepStarted(ctx_.spec.resources[step.resource].address, step.action);
    }
  }

  auto start = std::chrono::steady_clock::now();
  const Resource& first = ctx_.spec.resources[steps[which[0]]->resource];
  std::vector<Result<State>> after = changes.size() == 1 ? std::vector<Result<State>>{first.provider->Apply(changes[0])}
                                                         : first.provider->ApplyBatch(changes);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);

  std::vector<JournalRecord> outcomes;
  for (std::size_t k = 0; k < which.size(); ++k) {
    const Step& step = redone[which[k]] ? *redone[which[k]] : *steps[which[k]];
    const Resource& r = ctx_.spec.resources[step.resource];
    if (k >= after.size()) after.push_back(Error{"the provider returned no state"});
    // What the world never tells is, after this step, what it wrote (or found and kept).
    if (after[k] && after[k]->exists)
      for (const auto& [attr, v] : step.desired.attrs)
        if (const AttrSchema* a = r.schema->Find(attr); a && a->write_only) after[k]->attrs.emplace(attr, v);
    if (after[k])
      outcomes.push_back(
          journal::Encode(journal::Done{ctx_.op, stage, r.address, ctx_.sealer.Seal(*after[k], sealer_for(r))}));
    else outcomes.push_back(journal::Encode(journal::Failed{ctx_.op, stage, r.address, after[k].error().message}));
  }
  Status journaled = ctx_.journal.AppendAll(&outcomes);
  HeldProgress burst(ctx_.progress);
  for (std::size_t k = 0; k < which.size(); ++k) {
    const Step& step = redone[which[k]] ? *redone[which[k]] : *steps[which[k]];
    const Resource& r = ctx_.spec.resources[step.resource];
    ctx_.progress.StepFinished(r.address, step.action, after[k] ? std::string() : after[k].error().message, took);
    if (!journaled)
      results[which[k]] = {true, false,
                           (after[k] ? "applied, but the journal could not record it: "
                                     : after[k].error().message + "; and the journal could not record it: ") +
                               journaled.message(),
                           false, true};
    else if (!after[k]) results[which[k]] = {true, false, after[k].error().message};
    else results[which[k]] = {true, true, ""};
  }
  return results;
}

std::string Executor::SlotOf(const Step& step) { return InstanceKey(ctx_.spec.resources[step.resource]); }

std::string Executor::BatchOf(const Step& step) {
  auto target = TargetFor(step);
  return target ? ctx_.spec.resources[step.resource].provider->BatchKey(*target) : std::string();
}

void Executor::Start(std::size_t token, std::vector<const Step*> steps) {
  threads_[token] = std::thread([this, token, steps = std::move(steps)] {
    std::vector<StepResult> results = steps.size() == 1 && steps[0]->action == Action::kCheck
                                          ? std::vector<StepResult>{RunCheck(*steps[0])}
                                          : RunBatch(steps, stage_);
    std::lock_guard<std::mutex> g(done_mu_);
    finished_.push_back({token, std::move(results)});
    done_cv_.notify_one();
  });
}

StepRunner::Finished Executor::WaitForOne() {
  Finished f;
  {
    std::unique_lock<std::mutex> lock(done_mu_);
    done_cv_.wait(lock, [this] { return !finished_.empty(); });
    f = std::move(finished_.front());
    finished_.pop_front();
  }
  // It has reported, so it is ending: joined now, its stack let go.
  if (auto t = threads_.find(f.token); t != threads_.end()) {
    t->second.join();
    threads_.erase(t);
  }
  return f;
}

std::vector<StepResult> Executor::RunSteps(const std::vector<Step>& steps, const std::string& stage) {
  stage_ = stage;
  std::vector<StepResult> results = WalkSteps(ctx_.spec, steps, *this, {ctx_.parallelism, ctx_.per_instance});
  // The walk ends once every started batch has reported: what is left is joining.
  for (auto& [token, t] : threads_) t.join();
  threads_.clear();
  return results;
}

Executor::~Executor() {
  for (auto& [token, t] : threads_)
    if (t.joinable()) t.join();
}

StepResult Executor::RunCheck(const Step& planned, Progress* to) {
  Progress& progress = to ? *to : ctx_.progress;
  const Resource& r = ctx_.spec.resources[planned.resource];
  Step step = planned;
  if (!step.desired.unknown.empty()) {
    auto known = Known(step);
    if (!known) {
      progress.StepStarted(r.address, Action::kCheck);
      progress.StepFinished(r.address, Action::kCheck, known.error().message, std::chrono::milliseconds(0));
      return {true, false, known.error().message};
    }
    step.desired = std::move(*known);
  }
  auto target = TargetFor(step);
  if (!target) return {true, false, target.error().message};
  // The schema names the attributes and gives their defaults, which Desired() filled in (the
  // schema's own stands in for a desired state without them). A type that names no timeout is
  // asked once.
  auto duration = [&](const std::string& attr) -> std::optional<std::chrono::milliseconds> {
    const AttrSchema* a = attr.empty() ? nullptr : r.schema->Find(attr);
    if (!a) return std::nullopt;
    auto it = step.desired.attrs.find(attr);
    Value v = it != step.desired.attrs.end() ? it->second : DefaultValue(*a);
    const std::string* s = AsString(v);
    return s ? ParseDuration(*s) : std::nullopt;
  };
  auto timeout = duration(r.schema->poll_timeout_attr).value_or(std::chrono::milliseconds(0));
  auto interval = duration(r.schema->poll_interval_attr).value_or(timeout);
  auto start = std::chrono::steady_clock::now();
  progress.StepStarted(r.address, Action::kCheck);
  while (true) {
    auto result = r.provider->Check(*target);
    auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
    if (!result) {
      progress.StepFinished(r.address, Action::kCheck, result.error().message, waited);
      return {true, false, result.error().message};
    }
    if (result->holds) {
      progress.StepFinished(r.address, Action::kCheck, "", waited);
      return {true, true, ""};
    }
    if (waited >= timeout) {
      std::string why = "did not hold within " + FormatDuration(timeout) + ": " + result->detail;
      progress.StepFinished(r.address, Action::kCheck, why, waited);
      return {true, false, why};
    }
    progress.CheckWaiting(r.address, result->detail, waited, timeout);
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
