#include "engine/run/apply_stages.h"
#include "engine/run/watch.h"
#include "engine/journal/records.h"

#include <algorithm>
#include <map>
#include <set>

#include "engine/exec/ttl_wait.h"

namespace reconcile {

namespace {

// One step as a reviewer reads it: address, action and what changes, for telling a stage
// planned as it begins from the same stage in the reviewed plan.
// `masked`: attributes reviewed as "(known after apply)", which read so here too.
std::string StepLine(const Spec& spec, const Step& step, const SparseVector<std::string>* masked = nullptr) {
  std::string line = std::string(ActionSymbol(step.action)) + " " + spec.resources[step.resource].address;
  for (const AttrChange& c : step.changes()) {
    bool hide = masked && std::find(masked->begin(), masked->end(), c.name) != masked->end();
    line += "\n      " + c.name + ": " + (hide ? std::string(kKnownAfterApply) : ChangeText(step, c));
  }
  return line;
}

// What a stage planned from the world as it begins has that the reviewed plan did not, and
// what it no longer needs; said before the stage runs. Returns the new steps.
std::vector<const Step*> Announce(const Spec& spec, const StagePlan& reviewed, const StagePlan& now,
                                  Progress& progress) {
  // A value reviewed as "(known after apply)" and known now is what was reviewed; the rest of
  // the step must be as it was.
  std::map<std::size_t, const SparseVector<std::string>*> unsure;
  for (const Step& s : reviewed.steps)
    if (!s.desired.unknown.empty()) unsure[s.resource] = &s.desired.unknown;
  auto masked = [&](const Step& s) {
    auto it = unsure.find(s.resource);
    return it == unsure.end() ? nullptr : it->second;
  };
  std::set<std::string> before, after;
  for (const Step& s : reviewed.steps) before.insert(StepLine(spec, s, masked(s)));
  for (const Step& s : now.steps) after.insert(StepLine(spec, s, masked(s)));
  std::vector<const Step*> added;
  std::string said;
  for (const Step& s : now.steps) {
    std::string line = StepLine(spec, s, masked(s));
    if (before.count(line)) continue;
    added.push_back(&s);
    said += "\n  new  " + line;
  }
  for (const Step& s : reviewed.steps) {
    std::string line = StepLine(spec, s, masked(s));
    if (!after.count(line)) said += "\n  gone " + line.substr(0, line.find('\n'));
  }
  if (!said.empty())
    progress.Note("stage " + spec.stages[now.stage].name +
                  " planned again from the world as it begins; against the reviewed plan:" + said);
  return added;
}

}  // namespace

std::vector<const PendingStep*> CutOffBlind(const Spec& spec, const History& history, const std::string& op) {
  std::vector<const PendingStep*> out;
  for (const PendingStep& p : history.pending) {
    const Resource* r = spec.Find(p.address);
    if (!r || p.op != op || !r->IsOnce() || r->IsHandler()) continue;
    // A type that names no check attribute tells by its own probe (a copy's checksums).
    const std::string& tells = r->schema->done_check_attr;
    if (tells.empty() || r->attrs.count(tells)) continue;
    out.push_back(&p);
  }
  return out;
}

std::string PendingWhat(const Spec& spec, const PendingStep& p) {
  if (p.op != "rollback") return p.op + " " + p.action + " in stage '" + p.stage + "'";
  const Resource* r = spec.Find(p.address);
  std::string what = r && r->IsOnce()
                         ? "its `" + (r->schema->undo_attr.empty() ? std::string("undo") : r->schema->undo_attr) + "`"
                         : p.action;
  return what + " in a rollback to stage '" + p.stage + "'";
}

std::string CutOffBlindText(const Spec& spec, const PendingStep& p) {
  const Resource& r = *spec.Find(p.address);
  const std::string& tells = r.schema->done_check_attr;
  std::string what = p.op == "rollback" ? "its " + (r.schema->undo_attr.empty() ? std::string("undo")
                                                                                : "`" + r.schema->undo_attr + "`")
                                        : std::string("it");
  return p.address + " was cut off while " + what + " ran (started " + p.at + ") and has no " +
         (tells.empty() ? std::string("way") : "`" + tells + "`") + " to tell whether it finished";
}

std::string CutOffBlindFix(const Spec& spec, const PendingStep& p, const std::string& command) {
  const std::string& tells = spec.Find(p.address)->schema->done_check_attr;
  // The command line last, alone at the end, to copy.
  return "Find out on the host" + (tells.empty() ? std::string() : " (a `" + tells + "` would tell next time)") +
         "; then, to run it again: " + command + (p.op == "rollback" ? " --to " + p.stage : "") + " --rerun " +
         p.address;
}

namespace {

class StageDriver {
 public:
  StageDriver(Session& session, const PlanOptions& plan_options, const ApplyOptions& options, Executor& executor,
              ApplyHooks& hooks)
      : session_(session),
        spec_(session.spec()),
        plan_options_(plan_options),
        options_(options),
        executor_(executor),
        hooks_(hooks) {}

  // Plans stage `reviewed.stage` again from the world as it is now (into `now`), held to the
  // rules the reviewed plan was; or why it stops. `journaled` is the journal as the stage
  // begins: what this run did in earlier stages counts.
  RunEnd Replan(const StagePlan& reviewed, const History& journaled, StagePlan* now) {
    const StageSpec& stage = spec_.stages[reviewed.stage];
    PlanOptions again = plan_options_;
    again.first_stage = reviewed.stage;
    again.last_stage = reviewed.stage;
    again.once_done = OnceDone(spec_, journaled);
    again.handler_due = HandlersDue(spec_, journaled);
    again.written = WriteOnlyValues(spec_, journaled, session_.sealer);
    auto replanned = MakePlan(spec_, session_.graph, again);
    if (!replanned) return {RunEnd::kFailed, "stage '" + stage.name + "': " + replanned.error().message};
    *now = std::move(replanned->stages.front());
    // A saved plan is what was reviewed: a stage that now has a step it did not stops. (A
    // step no longer needed, already true, is no reason to stop; nor is what a step that
    // follows others finds when it is read, which no plan can know ahead.)
    std::string unreviewed;
    for (const Step* st : Announce(spec_, reviewed, *now, hooks_.progress))
      if (!spec_.resources[st->resource].schema->probe_when_run) unreviewed += "\n  " + StepLine(spec_, *st);
    if (!options_.saved_plan.empty() && !unreviewed.empty())
      return {RunEnd::kStopped, "stage '" + stage.name + "' now has steps the saved plan " + options_.saved_plan +
                                    " did not:" + unreviewed +
                                    "\n  stages before it are complete; run reconcile plan --out again and review it"};
    if (!now->guards.empty() && !options_.force) {
      std::string why;
      for (const std::string& g : now->guards) why += "\n  " + g;
      return {RunEnd::kStopped, "stage '" + stage.name + "' goes past a safety limit:" + why +
                                    "\n  stages before it are complete; pass --force to apply anyway"};
    }
    Plan one;
    one.stages.push_back(*now);
    if (one.Counts().irreversible > 0 && !options_.allow_irreversible)
      return {RunEnd::kStopped, "stage '" + stage.name +
                                    "' now has steps that cannot be undone:" + IrreversibleSteps(spec_, one) +
                                    "\n  stages before it are complete; review them and pass --allow-irreversible "
                                    "to apply anyway"};
    return {};
  }

  // This apply's own command line, --through included, for a way on to copy.
  std::string ApplyLine() const {
    std::string line = hooks_.command("apply");
    if (options_.through + 1 < spec_.stages.size()) line += " --through " + spec_.stages[options_.through].name;
    return line;
  }

  // A one-shot step cut off mid-run with no `check` to tell whether it happened is never run
  // again blindly. A handler is: it runs whenever notified, so running twice is its nature.
  Status RefuseBlindRerun(const StagePlan& now) {
    for (const PendingStep* p : CutOffBlind(spec_, session_.history(), "apply"))
      for (const Step& st : now.steps)
        if (spec_.resources[st.resource].address == p->address && !options_.rerun.count(p->address))
          return Error{CutOffBlindText(spec_, *p) + ", so it is not run again blindly.\n  " +
                       CutOffBlindFix(spec_, *p, ApplyLine())};
    return Status::Ok();
  }

  // Walks the stage; its changes first in the answer, then whether its checks held.
  RunEnd Walk(const StagePlan& now) {
    const StageSpec& stage = spec_.stages[now.stage];
    hooks_.progress.StageStarted(stage.name, now.steps.size());
    auto results = executor_.RunSteps(now.steps, stage.name);
    bool interrupted = g_interrupts.load() > 0;
    // A watched stage is not over until its window is: its time and its outcome include it.
    RunEnd watched;
    if (!interrupted && stage.watch.count() > 0 &&
        std::all_of(results.begin(), results.end(), [](const StepResult& r) { return r.ok; }))
      watched = WatchStage(spec_, now.stage, now.steps, executor_, hooks_.progress);
    interrupted = interrupted || watched.kind == RunEnd::kInterrupted;
    StageOutcome outcome = OutcomeOf(results, interrupted);
    if (watched.kind == RunEnd::kFailed) {
      outcome.complete = false;
      ++outcome.failed;
    }
    hooks_.progress.StageFinished(stage.name, outcome);
    std::vector<Step> changes, checks;
    std::vector<StepResult> change_results, check_results;
    for (std::size_t i = 0; i < now.steps.size(); ++i) {
      bool check = now.steps[i].action == Action::kCheck;
      (check ? checks : changes).push_back(now.steps[i]);
      (check ? check_results : change_results).push_back(results[i]);
    }
    RunEnd::Kind kind = interrupted ? RunEnd::kInterrupted : RunEnd::kFailed;
    // Where a rollback would take the world: the end of the stage before this one. Nothing
    // comes before the first: what it did can only be put right by applying again.
    std::string back = now.stage == 0 ? std::string()
                                      : ", or roll back with " + hooks_.command("rollback") + " --to " +
                                            spec_.stages[now.stage - 1].name;
    // Where on_failure applies: a step or a check that failed, not the journal failing under it.
    std::optional<std::size_t> failed;
    if (!interrupted && std::none_of(results.begin(), results.end(), [](const StepResult& r) { return r.journal; }))
      failed = now.stage;
    if (std::string failures = Failures(spec_, changes, change_results); !failures.empty())
      return {kind, "stage '" + stage.name + "' " + (interrupted ? "was interrupted" : "failed") + ":" + failures,
              failed,
              (interrupted ? "\n  what ran is journaled; run apply again to continue"
                           : "\n  the journal has what was done; fix the cause and run apply again to continue") +
                  back};
    if (std::string unmet = Failures(spec_, checks, check_results); !unmet.empty())
      return {kind, "stage '" + stage.name + "' is not complete:" + unmet, failed,
              "\n  its changes are applied; apply again to re-check" + back};
    if (watched.kind == RunEnd::kFailed)
      return {RunEnd::kFailed, watched.error, watched.failed_stage,
              "\n  its changes are applied; fix the cause and apply again" + back};
    if (watched.kind != RunEnd::kOk) return watched;
    return {};
  }

 private:
  Session& session_;
  const Spec& spec_;
  const PlanOptions& plan_options_;
  const ApplyOptions& options_;
  Executor& executor_;
  ApplyHooks& hooks_;
};

}  // namespace

RunEnd ApplyStages(Session& session, const Plan& plan, const PlanOptions& plan_options,
                   std::chrono::steady_clock::time_point planned_at, const ApplyOptions& options, Executor& executor,
                   ApplyHooks& hooks) {
  const Spec& spec = session.spec();
  Journal& journal = *session.journal;
  JournalRecord begin = journal::Encode(journal::Begin{
      "apply", spec.sha256, LockInfo::Mine("apply").user, spec.stages[options.through].name, "", {}, spec.options.env});
  if (Status s = journal.Append(&begin); !s) return {RunEnd::kFailed, s.message()};
  // Every way out writes the `end` record, with how it ended.
  auto finish = [&](RunEnd end) {
    static const char* kResult[] = {"ok", "failed", "stopped", "interrupted"};
    JournalRecord record = journal::Encode(journal::End{"apply", kResult[end.kind]});
    if (Status s = journal.Append(&record); !s) {
      if (end.kind == RunEnd::kOk) return RunEnd{RunEnd::kFailed, s.message()};
      end.failed_stage.reset();  // a rollback's records must not follow a run the journal could not end
    }
    return end;
  };

  StageDriver driver(session, plan_options, options, executor, hooks);
  for (const StagePlan& sp : plan.stages) {
    const StageSpec& stage = spec.stages[sp.stage];
    if (!stage.confirm.empty() && !options.yes)
      if (std::string why = hooks.confirm(stage); !why.empty())
        return finish({RunEnd::kStopped, "stage '" + stage.name + "' asks for confirmation (" + stage.confirm + "); " +
                                             why + ". Stages before it are complete; apply again to continue"});
    // One read of the journal a stage, for its TTL waits and its plan. Unread, neither can be
    // known (a one-shot step done in an earlier stage would look due again): the run stops.
    auto shared = journal.SharedSummary();
    if (!shared)
      return finish({RunEnd::kFailed, "stage '" + stage.name + "' did not start: " + shared.error().message});
    const History* summary = shared->get();
    auto waits = PendingTtlWaits(spec, *summary, sp.stage, std::chrono::system_clock::now());
    if (Status s = WaitOutTtls(waits, stage.name, hooks.progress); !s)
      return finish({RunEnd::kInterrupted,
                     "stage '" + stage.name + "' did not start: " + s.message() + "; apply again to continue"});
    // Each stage is planned from the world as it begins: what earlier stages did (a command
    // that removed a file this stage declares) is seen. The plan's own probe is seconds old
    // for the first stage, unless a prompt or a TTL wait held it.
    bool fresh = &sp == &plan.stages.front() && std::chrono::steady_clock::now() - planned_at < std::chrono::seconds(2);
    StagePlan replanned;
    const StagePlan* now = &sp;  // not copied: a thousand steps' states
    if (!fresh) {
      if (RunEnd stop = driver.Replan(sp, *summary, &replanned); stop.kind != RunEnd::kOk) return finish(stop);
      now = &replanned;
    }
    // Let go, so the stage's records go into the journal's summary without copying it first.
    shared->reset();
    if (Status s = driver.RefuseBlindRerun(*now); !s) return finish({RunEnd::kStopped, s.message()});
    if (RunEnd walked = driver.Walk(*now); walked.kind != RunEnd::kOk) return finish(walked);
    JournalRecord done = journal::Encode(journal::StageComplete{stage.name});
    if (Status s = journal.Append(&done); !s) return {RunEnd::kFailed, s.message()};
    hooks.progress.Note("stage " + stage.name + " complete");
  }
  return finish({});
}

}  // namespace reconcile
