// `reconcile apply`: stage by stage from the first stage the journal has not completed,
// each stage's steps journaled and run in parallel within limits, then its checks, then a
// checkpoint. After a crash or a failure the same command re-probes and continues.
#include <chrono>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include "engine/cli/session.h"
#include "engine/duration.h"
#include "engine/exec/executor.h"
#include "engine/exec/ttl_wait.h"

namespace reconcile {

namespace {

// Why `doc` is not a plan `plan --out` wrote, in the parts apply reads, or "" when it is one:
// a file edited by hand or cut short must be refused, never half read.
std::string SavedPlanShapeError(const nlohmann::json& doc) {
  if (doc.is_discarded()) return "it is not JSON";
  if (!doc.is_object()) return "it is not a JSON object";
  if (!doc.contains("format_version")) return "it has no format_version";
  if (doc["format_version"] != 1) return "format_version is " + doc["format_version"].dump() + ", not 1";
  if (!doc.contains("spec") || !doc["spec"].is_object()) return "'spec' is not an object";
  const nlohmann::json& spec = doc["spec"];
  if (!spec.contains("file") || !spec["file"].is_string() || spec["file"].get<std::string>().empty())
    return "'spec.file' is not the spec's path";
  if (!spec.contains("sha256") || !spec["sha256"].is_string()) return "'spec.sha256' is not a string";
  if (spec.contains("env") && !spec["env"].is_string()) return "'spec.env' is not a string";
  if (spec.contains("vars") && !spec["vars"].is_object()) return "'spec.vars' is not an object";
  if (!doc.contains("journal_seq") || !doc["journal_seq"].is_number_unsigned())
    return "'journal_seq' is not a record number";
  if (!doc.contains("stages") || !doc["stages"].is_array()) return "'stages' is not a list";
  for (const nlohmann::json& st : doc["stages"])
    if (!st.is_object() || !st.contains("name") || !st["name"].is_string())
      return "an entry of 'stages' is not a stage with a name";
  return "";
}

// A saved plan names its spec, overlay and variables; load exactly that.
bool ReadSavedPlan(const std::string& path, nlohmann::json* doc, CommonOptions* common) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  *doc = nlohmann::json::parse(ss.str(), nullptr, false);
  if (std::string why = SavedPlanShapeError(*doc); !why.empty()) {
    Fail(path + " is not a saved plan reconcile can read: " + why + "; write one with reconcile plan --out FILE");
    return false;
  }
  const nlohmann::json& spec = (*doc)["spec"];
  common->spec = spec["file"].get<std::string>();
  common->env = spec.value("env", "");
  common->vars.clear();
  nlohmann::json vars = spec.value("vars", nlohmann::json::object());
  for (auto& [k, v] : vars.items()) {
    if (v.is_string()) common->vars.push_back(k + "=" + v.get<std::string>());
  }
  return true;
}

bool LooksLikePlan(const std::string& path) {
  std::ifstream in(path);
  char c = 0;
  while (in.get(c) && std::isspace(static_cast<unsigned char>(c))) {
  }
  return c == '{';
}

// One step as a reviewer reads it: address, action and what changes, for telling a stage
// planned as it begins from the same stage in the reviewed plan.
std::string StepLine(const Spec& spec, const Step& step) {
  std::string line = std::string(ActionSymbol(step.action)) + " " + spec.resources[step.resource].address;
  for (const AttrChange& c : step.changes) line += "\n      " + c.name + ": " + ChangeText(step, c);
  return line;
}

// What a stage planned from the world as it begins has that the reviewed plan did not, and
// what it no longer needs; said on stderr before the stage runs. Returns the new steps.
std::vector<const Step*> Announce(const Spec& spec, const StagePlan& reviewed, const StagePlan& now,
                                  Progress& progress) {
  std::set<std::string> before, after;
  for (const Step& s : reviewed.steps) before.insert(StepLine(spec, s));
  for (const Step& s : now.steps) after.insert(StepLine(spec, s));
  std::vector<const Step*> added;
  std::string said;
  for (const Step& s : now.steps) {
    std::string line = StepLine(spec, s);
    if (before.count(line)) continue;
    added.push_back(&s);
    said += "\n  new  " + line;
  }
  for (const Step& s : reviewed.steps) {
    std::string line = StepLine(spec, s);
    if (!after.count(line)) said += "\n  gone " + line.substr(0, line.find('\n'));
  }
  if (!said.empty())
    progress.Note("stage " + spec.stages[now.stage].name +
                  " planned again from the world as it begins; against the reviewed plan:" + said);
  return added;
}

}  // namespace

int RunApply(const Registry& registry, CommonOptions common, const ApplyCommandOptions& options) {
  nlohmann::json saved;
  std::string plan_file;
  if (LooksLikePlan(common.spec)) {
    plan_file = common.spec;
    if (!ReadSavedPlan(plan_file, &saved, &common)) return 1;
  }
  auto session = OpenSession(registry, common, true);
  if (!session) return 1;
  const Spec& spec = session->spec();
  auto timeout = ParseDuration(options.lock_timeout);
  if (!timeout) {
    Fail("--lock-timeout takes a duration such as 30s or 10m, not '" + options.lock_timeout + "'");
    return 1;
  }
  std::size_t through = spec.stages.size() - 1;
  if (!options.through.empty()) {
    auto s = spec.FindStage(options.through);
    if (!s) {
      Fail("no stage '" + options.through + "' in " + spec.path + DidYouMean(options.through, spec.StageNames()));
      return 1;
    }
    through = *s;
  }

  if (Status s = session->journal->Lock(LockInfo::Mine("apply"), *timeout); !s) {
    Fail(s.message());
    return 1;
  }
  if (!RefreshHistory(session.get()) || !CloseFinishedSteps(session.get())) return 1;
  const History& history = session->history;
  for (const PendingStep& p : history.pending)
    std::cerr << "reconcile: " << p.address << " (" << p.op << " " << p.action << ", stage " << p.stage
              << ", started " << p.at << ") never finished; re-probing it before anything else\n";

  std::size_t next = history.NextStage(session->StageNames());
  bool all_complete = next == spec.stages.size();
  if (!all_complete && through < next) {
    std::cout << "Nothing to do: stage '" << spec.stages[through].name << "' is already complete.\n";
    return 0;
  }
  PlanOptions plan_options = PlanOptionsFor(*session);
  auto plan = MakePlan(spec, session->graph, plan_options);
  if (!plan) {
    Fail(plan.error().message);
    return 1;
  }
  auto planned_at = std::chrono::steady_clock::now();
  plan->journal_seq = history.last_seq;
  plan->stages.erase(std::remove_if(plan->stages.begin(), plan->stages.end(),
                                    [&](const StagePlan& sp) { return sp.stage > through; }),
                     plan->stages.end());

  if (!plan_file.empty()) {
    const nlohmann::json& was = saved["spec"];
    if (was.value("sha256", "") != spec.sha256) {
      Fail("the plan " + plan_file + " is stale: the spec (or its overlay or variables) changed since it was saved; "
           "run reconcile plan --out again");
      return 1;
    }
    if (saved.value("journal_seq", std::uint64_t{0}) != history.last_seq) {
      Fail("the plan " + plan_file + " is stale: the journal moved since it was saved (record " +
           std::to_string(saved.value("journal_seq", std::uint64_t{0})) + " then, " + std::to_string(history.last_seq) +
           " now); run reconcile plan --out again");
      return 1;
    }
    nlohmann::json now = nlohmann::json::parse(RenderJson(spec, *plan, {}));
    nlohmann::json then = saved["stages"];
    then.erase(std::remove_if(then.begin(), then.end(),
                              [&](const nlohmann::json& st) {
                                auto s = spec.FindStage(st.value("name", ""));
                                return s && *s > through;
                              }),
               then.end());
    if (now["stages"] != then) {
      Fail("the plan " + plan_file + " is stale: the world changed since it was saved, so the steps would differ; "
           "run reconcile plan --out again and review it");
      return 1;
    }
  }

  if (all_complete && !plan->HasChanges()) {
    std::cout << "Nothing to do: all " << spec.stages.size()
              << " stages are complete and the world matches the spec.\n";
    return 0;
  }
  std::cout << RenderText(spec, *plan, {});
  if (plan->Counts().irreversible > 0 && !options.allow_irreversible) {
    Fail("the plan has steps that cannot be undone:" + IrreversibleSteps(spec, *plan) +
         "\n  nothing was changed; review them and pass --allow-irreversible to apply anyway");
    return 1;
  }

  std::string guards;
  for (const StagePlan& sp : plan->stages)
    for (const std::string& g : sp.guards) guards += "\n  stage " + spec.stages[sp.stage].name + ": " + g;
  if (!guards.empty() && !options.force) {
    Fail("the plan goes past a safety limit:" + guards + "\n  nothing was changed; review it and pass --force to apply anyway");
    return 1;
  }

  InstallInterruptHandler();
  StderrProgress progress;
  Executor executor(ExecContext{spec, *session->journal, session->sealer, progress, "apply", options.parallelism, 4});
  JournalRecord begin{0, "", "begin",
                      {{"op", "apply"},
                       {"spec_sha256", spec.sha256},
                       {"through", spec.stages[through].name},
                       {"holder", LockInfo::Mine("apply").user}}};
  if (Status s = session->journal->Append(&begin); !s) {
    Fail(s.message());
    return 1;
  }
  auto finish = [&](const std::string& result) {
    JournalRecord end{0, "", "end", {{"op", "apply"}, {"result", result}}};
    if (Status s = session->journal->Append(&end); !s) Fail(s.message());
  };

  for (const StagePlan& sp : plan->stages) {
    const StageSpec& stage = spec.stages[sp.stage];
    if (!stage.confirm.empty() && !options.yes) {
      if (!Confirm("Stage '" + stage.name + "': " + stage.confirm + ". Start it?")) {
        Fail("stage '" + stage.name + "' asks for confirmation (" + stage.confirm + ")" +
             (::isatty(0) ? "; not confirmed" : "; there is no terminal to ask on, so pass --yes") +
             ". Stages before it are complete; apply again to continue.");
        finish("stopped");
        return 1;
      }
    }
    if (auto records = session->journal->Read(); records) {
      auto waits = PendingTtlWaits(spec, *records, sp.stage, std::chrono::system_clock::now());
      if (Status s = WaitOutTtls(waits, stage.name, progress); !s) {
        finish("interrupted");
        Fail("stage '" + stage.name + "' did not start: " + s.message() + "; apply again to continue");
        return 130;
      }
    }
    // Each stage is planned from the world as it begins: what earlier stages did (a command
    // that removed a file this stage declares) is seen. The plan's own probe is seconds old
    // for the first stage, unless a prompt or a TTL wait held it.
    bool fresh = &sp == &plan->stages.front() && std::chrono::steady_clock::now() - planned_at < std::chrono::seconds(2);
    StagePlan now = sp;
    if (!fresh) {
      PlanOptions again = plan_options;
      again.first_stage = sp.stage;
      again.last_stage = sp.stage;
      // What this run did in earlier stages counts: the journal is read again.
      if (auto records = session->journal->Read(); records) again.once_done = OnceDone(spec, Summarize(*records));
      auto replanned = MakePlan(spec, session->graph, again);
      if (!replanned) {
        finish("failed");
        Fail("stage '" + stage.name + "': " + replanned.error().message);
        return 1;
      }
      now = std::move(replanned->stages.front());
      // A saved plan is what was reviewed: a stage that now has a step it did not stops. (A
      // step no longer needed, already true, is no reason to stop; nor is what a step that
      // follows others finds when it is read, which no plan can know ahead.)
      std::string unreviewed;
      for (const Step* st : Announce(spec, sp, now, progress))
        if (!spec.resources[st->resource].schema->probe_when_run) unreviewed += "\n  " + StepLine(spec, *st);
      if (!plan_file.empty() && !unreviewed.empty()) {
        finish("stopped");
        Fail("stage '" + stage.name + "' now has steps the saved plan " + plan_file + " did not:" + unreviewed +
             "\n  stages before it are complete; run reconcile plan --out again and review it");
        return 1;
      }
      if (now.guards.size() > 0 && !options.force) {
        std::string why;
        for (const std::string& g : now.guards) why += "\n  " + g;
        finish("stopped");
        Fail("stage '" + stage.name + "' goes past a safety limit:" + why +
             "\n  stages before it are complete; pass --force to apply anyway");
        return 1;
      }
      Plan one;
      one.stages.push_back(now);
      if (one.Counts().irreversible > 0 && !options.allow_irreversible) {
        finish("stopped");
        Fail("stage '" + stage.name + "' now has steps that cannot be undone:" + IrreversibleSteps(spec, one) +
             "\n  stages before it are complete; review them and pass --allow-irreversible to apply anyway");
        return 1;
      }
    }
    // A one-shot step cut off mid-run with no `check` to tell whether it happened is never
    // run again blindly.
    for (const Step& st : now.steps) {
      const Resource& r = spec.resources[st.resource];
      if (!r.IsOnce() || r.attrs.count("check") || options.rerun.count(r.address)) continue;
      auto p = std::find_if(history.pending.begin(), history.pending.end(),
                            [&](const PendingStep& ps) { return ps.address == r.address && ps.op == "apply"; });
      if (p == history.pending.end()) continue;
      finish("stopped");
      Fail(r.address + " was cut off while it ran (started " + p->at + ") and has no `check` to tell whether it "
           "happened, so it is not run again blindly.\n  Find out on the host; then run apply with --rerun " +
           r.address + " to run it again, or add a `check` that tells");
      return 1;
    }
    progress.StageStarted(stage.name, now.steps.size());
    auto results = executor.RunSteps(now.steps, stage.name);
    std::vector<Step> changes, checks;
    std::vector<StepResult> change_results, check_results;
    for (std::size_t i = 0; i < now.steps.size(); ++i) {
      bool check = now.steps[i].action == Action::kCheck;
      (check ? checks : changes).push_back(now.steps[i]);
      (check ? check_results : change_results).push_back(results[i]);
    }
    bool interrupted = g_interrupts.load() > 0;
    std::string failures = Failures(spec, changes, change_results);
    if (!failures.empty()) {
      finish(interrupted ? "interrupted" : "failed");
      Fail("stage '" + stage.name + "' " + (interrupted ? "was interrupted" : "failed") + ":" + failures +
           "\n  the journal has what was done; fix the cause and run apply again to continue, or roll back with "
           "reconcile rollback --to STAGE");
      return interrupted ? 130 : 1;
    }
    if (std::string unmet = Failures(spec, checks, check_results); !unmet.empty()) {
      finish(interrupted ? "interrupted" : "failed");
      Fail("stage '" + stage.name + "' is not complete:" + unmet +
           "\n  its changes are applied; apply again to re-check, or roll back with reconcile rollback --to STAGE");
      return interrupted ? 130 : 1;
    }
    JournalRecord done{0, "", "stage_complete", {{"stage", stage.name}}};
    if (Status s = session->journal->Append(&done); !s) {
      Fail(s.message());
      return 1;
    }
    progress.Note("stage " + stage.name + " complete");
  }
  finish("ok");
  std::cout << "Apply complete through stage '" << spec.stages[through].name << "'.\n";
  return 0;
}

}  // namespace reconcile
