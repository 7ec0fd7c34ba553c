// `reconcile rollback --to S`: the engine plans the way back (PlanRollback); here it is shown,
// refused on drift (unless --force) or irreversible steps (unless --allow-irreversible),
// confirmed, and handed to RunRollbackPlan.
#include <algorithm>
#include <iostream>

#include "engine/cli/session.h"
#include "engine/cli/run_view.h"
#include "engine/duration.h"
#include "engine/run/rollback_plan.h"

namespace reconcile {

int RunRollback(const Registry& registry, const CommonOptions& common, const RollbackCommandOptions& options) {
  if (options.json) SetJsonErrors();
  auto session = OpenSession(registry, common, true);
  if (!session || RefusedForOldSharedJournal(*session)) return 1;
  const Spec& spec = session->spec();
  auto to = spec.FindStage(options.to);
  if (!to) {
    Fail("no stage '" + options.to + "' in " + spec.path + DidYouMean(options.to, spec.StageNames()));
    return 1;
  }
  if (!RerunNamesSteps(spec, options.rerun)) return 1;
  auto timeout = ParseDuration(options.lock_timeout);
  if (!timeout) {
    Fail("--lock-timeout takes a duration such as 30s or 10m, not '" + options.lock_timeout + "'");
    return 1;
  }
  if (Status s = session->journal->Lock(LockInfo::Mine("rollback"), *timeout); !s) {
    Fail(s.message());
    return 1;
  }
  return RollBackLocked(*session, common, options, *to, "");
}

int RollBackLocked(Session& locked, const CommonOptions& common, const RollbackCommandOptions& options, std::size_t to,
                   const std::string& automatic) {
  Session* session = &locked;
  const Spec& spec = session->spec();
  if (!Refresh(session)) return 1;
  if (!options.dry_run && !CloseFinished(session)) return 1;

  auto rollback = PlanRollback(*session, to);
  if (!rollback) {
    Fail(rollback.error().message);
    return 1;
  }
  for (const std::string& note : rollback->notes) std::cerr << "reconcile: " << note << "\n";
  if (!rollback->drift.empty() && !options.force) {
    Fail("these changed since reconcile last wrote them:" + rollback->drift +
         "\n  nothing was rolled back; check who changed them, then roll back with --force to overwrite, "
         "or leave them");
    return 1;
  }
  // An earlier rollback, to a stage before this one, that did not finish undid stages up to
  // this one in part. A rollback does not run a stage again (apply does): this one cannot
  // leave the world as it was after its stage, whatever it plans.
  if (const History& h = session->history(); h.RollbackUnfinished()) {
    auto before = spec.FindStage(h.last_begin->to);
    bool partly = before && *before < to &&
                  std::any_of(h.last_begin->undo.begin(), h.last_begin->undo.end(), [&](const std::string& name) {
                    auto s = spec.FindStage(name);
                    return s && *s <= to;
                  });
    if (std::string note = UnfinishedRollbackNote(spec, h, common); partly && !note.empty()) {
      Fail("cannot roll back to the end of stage '" + options.to +
           "', and nothing was changed: a rollback does not run a stage again (apply does), and " + note);
      return 1;
    }
  }
  if (rollback->Empty()) {
    std::cout << "Nothing to roll back: the world is as it was after stage '" << options.to
              << "' for everything reconcile changed since.\n";
    return 0;
  }
  RenderOptions render;
  render.title = (automatic.empty() ? "Rollback" : "Automatic rollback (" + automatic + ")") + " of " + spec.name +
                 " to the end of stage '" + options.to + "'";
  render.rollback = true;
  std::cout << RenderText(spec, rollback->Shown(), render);
  // A revert cut off mid-run with nothing to tell whether it finished is not run again blindly.
  for (const PendingStep* p : CutOffBlind(spec, session->history(), "rollback")) {
    const auto& steps = rollback->plan.stages.front().steps;
    bool planned = std::any_of(steps.begin(), steps.end(),
                               [&](const Step& st) { return spec.resources[st.resource].address == p->address; });
    if (!planned || options.rerun.count(p->address)) continue;
    if (options.dry_run) {
      std::cerr << "reconcile: note: " << CutOffBlindText(spec, *p) << "; the rollback will stop before it.\n  "
                << CutOffBlindFix(spec, *p, CommandFor(common, "rollback")) << "\n";
      continue;
    }
    Fail(CutOffBlindText(spec, *p) + ", so it is not run again blindly; nothing was changed.\n  " +
         CutOffBlindFix(spec, *p, CommandFor(common, "rollback")));
    return 1;
  }
  if (options.dry_run) return 0;
  if (rollback->plan.Counts().irreversible > 0 && !options.allow_irreversible) {
    Fail("the rollback has steps that cannot be undone:" + IrreversibleSteps(spec, rollback->plan) +
         "\n  nothing was changed; review them and pass --allow-irreversible to roll back anyway");
    return 1;
  }
  if (!options.yes)
    if (std::string why = Approve("rollback", "Roll " + spec.name + " back to the end of stage '" + options.to + "'?",
                                  "Review the rollback above, then run again with --yes.");
        !why.empty()) {
      Fail(why);
      return 1;
    }

  InstallInterruptHandler();
  RunView view("rollback", options.json, spec);
  Progress& progress = view.progress();
  view.Started({{"spec", spec.path}, {"env", common.env}, {"to", options.to}});
  Executor executor(
      ExecContext{spec, *session->journal, session->sealer, progress, "rollback", options.parallelism, 4});
  RunEnd end = RunRollbackPlan(*session, *rollback, executor, progress);
  view.Finished(end);
  if (end.kind != RunEnd::kOk) {
    Fail(end.Message());
    if (!view.tally().Stages().empty()) std::cerr << "Done before it stopped: " << view.tally().Summary() << ".\n";
    return end.ExitCode();
  }
  std::cout << "Rolled back to the end of stage '" << options.to << "': " << view.tally().Summary() << ".\n";
  // Only as far as it undid: a plain apply would go on into stages never applied before.
  // Through the last stage is every stage: said as a plain apply.
  if (!rollback->undone.empty())
    std::cout << "Next: " << CommandFor(common, "apply")
              << (rollback->undone.back() == spec.stages.back().name ? "" : " --through " + rollback->undone.back())
              << " applies again what this undid (stage '" << spec.stages[to + 1].name << "' on).\n";
  return 0;
}

}  // namespace reconcile
