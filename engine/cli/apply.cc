// `reconcile apply`: reads a saved plan or plans the spec, refuses a stale one, shows the
// plan and what it may not do, and hands the stages to the engine's driver (ApplyStages).
// After a crash or a failure the same command re-probes and continues.
#include <chrono>
#include <fstream>
#include <iostream>
#include <set>
#include <sstream>

#include <unistd.h>

#include "engine/cli/session.h"
#include "engine/shell_words.h"
#include "engine/duration.h"
#include "engine/cli/run_view.h"
#include "engine/os_calls.h"
#include "engine/run/apply_stages.h"

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
  if (doc.contains("reviewed_stage") && !doc["reviewed_stage"].is_string())
    return "'reviewed_stage' is not a stage's name";
  if (!doc.contains("stages") || !doc["stages"].is_array()) return "'stages' is not a list";
  for (const nlohmann::json& st : doc["stages"])
    if (!st.is_object() || !st.contains("name") || !st["name"].is_string())
      return "an entry of 'stages' is not a stage with a name";
  return "";
}

// A saved plan names its spec, overlay and variables; load exactly that.
bool ReadSavedPlan(const std::string& path, nlohmann::json* doc, CommonOptions* common) {
  std::string text;
  if (int err = ReadWholeFile(path, 256u << 20, &text); err != 0) {
    Fail("cannot read the saved plan " + path + ": " + ErrnoText(err));
    return false;
  }
  *doc = nlohmann::json::parse(text, nullptr, false);
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

// on_failure = "rollback": what the failed stage and those after the stage before it did is
// rolled back by the same journaled rollback as `rollback --to`, shown, and not asked about
// (the spec asked for it). The apply still failed, and its exit status says so.
int RollBackAfterFailure(Session& session, const CommonOptions& common, const ApplyCommandOptions& options,
                         std::size_t failed) {
  const Spec& spec = session.spec();
  const std::string& name = spec.stages[failed].name;
  RollbackCommandOptions back;
  back.to = spec.stages[failed - 1].name;
  back.yes = true;
  // The irreversible steps approved were the apply's; a rollback's own are shown and stop it.
  back.allow_irreversible = false;
  back.parallelism = options.parallelism;
  back.json = options.json;
  if (g_interrupts.load() > 0) {
    Fail("stage '" + name + "' failed, and on_failure = \"rollback\" was interrupted before it began; roll back with " +
         CommandFor(common, "rollback") + " --to " + back.to + ", or fix the cause and apply again");
    return 130;
  }
  std::cerr << "reconcile: stage '" << name << "' has on_failure = \"rollback\": rolling back to the end of stage '"
            << back.to << "'\n";
  int rolled = RollBackLocked(session, common, back, failed - 1, "stage '" + name + "' failed");
  if (rolled == 0)
    Fail("stage '" + name + "' failed, so the world was rolled back to the end of stage '" + back.to +
         "' (on_failure = \"rollback\"); fix the cause, then apply again");
  else
    Fail("stage '" + name + "' failed, and the rollback to the end of stage '" + back.to +
         "' that on_failure = \"rollback\" started did not finish (above: why, and what is left); finish it with " +
         CommandFor(common, "rollback") + " --to " + back.to);
  return rolled == 130 ? 130 : 1;
}

// The journal moved since `seq` only by applies that changed nothing: begun, then ended before
// a step or a stage's completion (a stage's confirmation declined). A plan saved before them
// still holds: they neither changed the world nor what the journal says of it.
bool OnlyEmptyAppliesSince(Journal& journal, std::uint64_t seq) {
  auto records = journal.ReadShared();
  if (!records) return false;
  for (const JournalRecord& r : **records) {
    if (r.seq <= seq) continue;
    bool apply_begins = r.kind == "begin" && r.data.is_object() && r.data.value("op", "") == "apply";
    if (!apply_begins && r.kind != "end") return false;
  }
  return true;
}

}  // namespace

int RunApply(const Registry& registry, CommonOptions common, const ApplyCommandOptions& options) {
  if (options.json) SetJsonErrors();
  nlohmann::json saved;
  std::string plan_file;
  if (LooksLikePlan(common.spec)) {
    plan_file = common.spec;
    if (!ReadSavedPlan(plan_file, &saved, &common)) return 1;
  }
  auto session = OpenSession(registry, common, true);
  if (!session || RefusedForOldSharedJournal(*session)) return 1;
  const Spec& spec = session->spec();
  auto timeout = ParseDuration(options.lock_timeout);
  if (!timeout) {
    Fail("--lock-timeout takes a duration such as 30s or 10m, not '" + options.lock_timeout + "'");
    return 1;
  }
  if (!RerunNamesSteps(spec, options.rerun)) return 1;
  std::size_t through = spec.stages.size() - 1;
  if (!options.through.empty()) {
    auto s = spec.FindStage(options.through);
    if (!s) {
      Fail("no stage '" + options.through + "' in " + spec.path + DidYouMean(options.through, spec.StageNames()));
      return 1;
    }
    through = *s;
  }
  // A plan saved with --stage showed that stage alone: applied through it, and no further.
  std::optional<std::size_t> reviewed;
  if (saved.contains("reviewed_stage")) {
    const std::string name = saved["reviewed_stage"].get<std::string>();
    reviewed = spec.FindStage(name);
    if (!reviewed) {
      Fail("the plan " + plan_file + " was saved for stage '" + name + "', which " + spec.path +
           " no longer has; nothing was changed. Save a plan again: " + CommandFor(common, "plan") + " --out " +
           ShellQuote(plan_file));
      return 1;
    }
    if (options.through.empty()) {
      through = *reviewed;
    } else if (through > *reviewed) {
      Fail("the plan " + plan_file + " shows stage '" + name + "' only (it was saved by plan --stage " + name +
           "), so stage '" + spec.stages[through].name +
           "' was never reviewed; nothing was changed. Save a plan of it: " + CommandFor(common, "plan") + " --out " +
           ShellQuote(plan_file));
      return 1;
    }
  }

  if (Status s = session->journal->Lock(LockInfo::Mine("apply"), *timeout); !s) {
    Fail(s.message());
    return 1;
  }
  if (!Refresh(session.get()) || !CloseFinished(session.get())) return 1;
  // Held: a rollback after a failure reads the journal again, and must not free it under us.
  const std::shared_ptr<const History> held = session->history_;
  const History& history = *held;
  // A revert cut off mid-run, with nothing to tell whether it finished, leaves its one-shot
  // step neither done nor undone: apply cannot tell whether to run it again (it would take it
  // as done), so the rollback is finished first.
  for (const PendingStep* p : CutOffBlind(spec, history, "rollback")) {
    Fail(CutOffBlindText(spec, *p) +
         ", so apply cannot tell whether it is still done; nothing was changed. Finish the rollback first.\n  " +
         CutOffBlindFix(spec, *p, CommandFor(common, "rollback")));
    return 1;
  }
  for (const PendingStep& p : history.pending)
    std::cerr << "reconcile: " << p.address << " (" << PendingWhat(spec, p) << ", started " << p.at
              << ") never finished; re-probing it before anything else\n";

  std::size_t next = history.NextStage(session->StageNames());
  bool all_complete = next == spec.stages.size();
  if (through < next && (!all_complete || through + 1 < spec.stages.size())) {
    std::cout << "Nothing to do: stage '" << spec.stages[through].name << "' is already complete.\n";
    return 0;
  }
  if (reviewed && !all_complete && next < *reviewed) {
    Fail("the plan " + plan_file + " shows stage '" + spec.stages[*reviewed].name +
         "' only (it was saved by plan --stage " + spec.stages[*reviewed].name + "), but stage '" +
         spec.stages[next].name +
         "' before it is not complete and would run unreviewed; nothing was changed. Save a plan of every stage: " +
         CommandFor(common, "plan") + " --out " + ShellQuote(plan_file));
    return 1;
  }
  PlanOptions plan_options = PlanOptionsFor(*session);
  auto plan = MakePlan(spec, session->graph, plan_options);
  if (!plan) {
    Fail(plan.error().message);
    return 1;
  }
  auto planned_at = std::chrono::steady_clock::now();
  plan->journal_seq = history.last_seq;
  plan->stages.erase(
      std::remove_if(plan->stages.begin(), plan->stages.end(), [&](const StagePlan& sp) { return sp.stage > through; }),
      plan->stages.end());

  if (!plan_file.empty()) {
    // As it was saved: of one stage again when it was of one.
    const std::string save_again = "save it again and review it: " + CommandFor(common, "plan") +
                                   (reviewed ? " --stage " + ShellQuote(spec.stages[*reviewed].name) : "") + " --out " +
                                   ShellQuote(plan_file);
    const nlohmann::json& was = saved["spec"];
    if (was.value("sha256", "") != spec.sha256) {
      Fail("the plan " + plan_file + " is stale: the spec (or its overlay or variables) changed since it was saved; " +
           save_again);
      return 1;
    }
    if (const std::uint64_t then = saved.value("journal_seq", std::uint64_t{0});
        then != history.last_seq && !OnlyEmptyAppliesSince(*session->journal, then)) {
      Fail("the plan " + plan_file + " is stale: the journal moved since it was saved (record " + std::to_string(then) +
           " then, " + std::to_string(history.last_seq) + " now); " + save_again);
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
    // Why a step exists names the spec as each run loaded it (its path relative or not): the
    // steps are what was reviewed, not the wording of their reasons.
    auto steps_only = [](nlohmann::json stages) {
      for (nlohmann::json& st : stages)
        if (st.contains("steps") && st["steps"].is_array())
          for (nlohmann::json& step : st["steps"])
            if (step.is_object()) step.erase("reason");
      return stages;
    };
    if (steps_only(now["stages"]) != steps_only(then)) {
      Fail("the plan " + plan_file + " is stale: the world changed since it was saved, so the steps would differ; " +
           save_again);
      return 1;
    }
  }

  if (all_complete && !plan->HasChanges()) {
    std::cout << "Nothing to do: all " << spec.stages.size()
              << " stages are complete and the world matches the spec.\n";
    return 0;
  }
  std::cout << RenderText(spec, *plan, {});
  // Before the approval: how long this took when it was rehearsed, and the downtime users see.
  Timings rehearsed;
  if (!LoadRehearsal(spec, options.timings, &rehearsed)) return 1;
  if (!rehearsed.Empty()) std::cout << "\n" << RehearsalText(spec, rehearsed);
  if (plan->Counts().irreversible > 0 && !options.allow_irreversible) {
    Fail("the plan has steps that cannot be undone:" + IrreversibleSteps(spec, *plan) +
         "\n  nothing was changed; review them and pass --allow-irreversible to apply anyway");
    return 1;
  }

  std::string guards;
  for (const StagePlan& sp : plan->stages)
    for (const std::string& g : sp.guards) guards += "\n  stage " + spec.stages[sp.stage].name + ": " + g;
  if (!guards.empty() && !options.force) {
    Fail("the plan goes past a safety limit:" + guards +
         "\n  nothing was changed; review it and pass --force to apply anyway");
    return 1;
  }

  // What was shown is approved once, before the first change; a saved plan was reviewed when
  // it was written, and a run with nothing to change (checks left to hold) changes nothing.
  // A stage that rolls back by itself on failure may change the world though its plan has only
  // checks left: that is asked about too.
  bool may_roll_back = std::any_of(plan->stages.begin(), plan->stages.end(),
                                   [&](const StagePlan& sp) { return spec.RollsBackOnFailure(sp.stage); });
  // What this run was asked to do, for the lines to copy: without them, `apply PLAN` runs every
  // stage the plan holds.
  std::string chosen;
  if (!options.through.empty()) chosen += " --through " + ShellQuote(options.through);
  for (const std::string& address : options.rerun) chosen += " --rerun " + ShellQuote(address);
  if (!options.yes && plan_file.empty() && (plan->HasChanges() || may_roll_back))
    if (std::string why =
            Approve("apply", "Apply these changes?",
                    "Review the plan above, then run again with --yes, or save it with " + CommandFor(common, "plan") +
                        " --out PLAN and run reconcile apply PLAN" + chosen + ".");
        !why.empty()) {
      Fail(why);
      return 1;
    }

  InstallInterruptHandler();
  RunView view("apply", options.json, spec);
  Progress& progress = view.progress();
  view.SetRehearsal(rehearsed);
  view.Started({{"spec", spec.path}, {"env", common.env}, {"through", spec.stages[through].name}});
  Executor executor(ExecContext{spec, *session->journal, session->sealer, progress, "apply", options.parallelism, 4});
  ApplyOptions run{through, options.yes, options.allow_irreversible, options.force, options.rerun, plan_file};
  ApplyHooks hooks{progress,
                   [&view](const StageSpec& stage) -> std::string {
                     if (::isatty(0)) view.ConfirmWaiting(stage);
                     if (Confirm("Stage '" + stage.name + "': " + stage.confirm + ". Start it?")) return "";
                     return ::isatty(0) ? "not confirmed" : "there is no terminal to ask on, so pass --yes";
                   },
                   [&](const std::string& verb) { return CommandFor(common, verb); }};
  RunEnd end = ApplyStages(*session, *plan, plan_options, planned_at, run, executor, hooks);
  view.Finished(end);
  if (end.kind != RunEnd::kOk) {
    bool roll_back = end.failed_stage && spec.RollsBackOnFailure(*end.failed_stage);
    Fail(roll_back ? end.error : end.Message());
    if (!view.tally().Stages().empty())
      std::cerr << "Done before it stopped: " << view.tally().Summary() << ".\n" << view.tally().StageLines();
    if (roll_back) {
      view.Close();  // the apply's last messages reach the channel before the rollback's first
      return RollBackAfterFailure(*session, common, options, *end.failed_stage);
    }
    return end.ExitCode();
  }
  std::cout << "Apply complete through stage '" << spec.stages[through].name << "': " << view.tally().Summary() << ".\n"
            << view.tally().StageLines();
  // After a reviewed plan, the next change is reviewed too.
  std::string apply = plan_file.empty() ? CommandFor(common, "apply") : "reconcile apply PLAN";
  std::string review = plan_file.empty() ? "" : ", after " + CommandFor(common, "plan") + " --out PLAN";
  if (through + 1 < spec.stages.size())
    std::cout << "Next: " << apply << " --through " << spec.stages[through + 1].name << " runs stage '"
              << spec.stages[through + 1].name << "'" << review << ".\n";
  else std::cout << "Next: " << CommandFor(common, "plan") << " shows nothing left to do.\n";
  std::cout << "Undo: " << CommandFor(common, "rollback") << " --to STAGE puts the world back as it was after STAGE.\n";
  return 0;
}

}  // namespace reconcile
