// `reconcile status` and `reconcile force-unlock`: what the journal says, and the way out of
// a lock whose holder is gone.
#include <unistd.h>

#include <iostream>

#include "engine/cli/session.h"
#include "engine/exec/walk.h"
#include "engine/run/apply_stages.h"

namespace reconcile {

int RunStatus(const Registry& registry, const CommonOptions& common) {
  auto session = OpenSession(registry, common, true);
  if (!session) return 1;
  const Spec& spec = session->spec();
  const History& h = session->history();
  std::cout << spec.name << ": journal " << session->journal->Describe() << " (" << h.last_seq << " records)\n";
  auto holder = session->journal->Holder();
  if (!holder) {
    Fail(holder.error().message);
    return 1;
  }
  std::string lock = "free";
  if (*holder) {
    lock = "held by " + (*holder)->Describe();
    if ((*holder)->gone)
      lock += "; that run has ended on this machine but its lock remains: reconcile force-unlock SPEC " + (*holder)->id;
  }
  // Steps a live run has started are in flight, not cut off: nothing to advise about them.
  const bool running = *holder && !(*holder)->gone;
  std::cout << "lock: " << lock << "\n\nstages:\n";
  for (const StageSpec& s : spec.stages)
    std::cout << "  " << (h.complete.count(s.name) ? "complete  " : "pending   ") << s.name << "\n";
  if (!h.pending.empty()) {
    std::cout << (running ? "\nstarted by the run that holds the lock, not finished yet:\n"
                          : "\nstarted and never finished (re-probed by the next apply):\n");
    for (const PendingStep& p : h.pending)
      std::cout << "  " << p.address << ": " << PendingWhat(spec, p) << ", started " << p.at << "\n";
    for (const char* op : {"apply", "rollback"})
      if (!running)
        for (const PendingStep* p : CutOffBlind(spec, h, op))
          std::cout << "  " << p->address << " has no way to tell whether it ran: " << op << " will stop before it"
                    << (std::string(op) == "rollback" ? ", and apply before anything" : "") << ". "
                    << CutOffBlindFix(spec, *p, CommandFor(common, op)) << "\n";
  }
  if (h.last_failure) {
    // As apply says it: named once, a command's stderr indented under it.
    std::cout << "\nlast failure (" << h.last_failure_at << "): " << h.last_failure->address << " in stage "
              << h.last_failure->stage << ": " << StepErrorText(h.last_failure->address, h.last_failure->error, "  ")
              << "\n";
  }
  if (h.last_begin) {
    std::string ended = running              ? " (running now)"
                        : h.last_end.empty() ? ", cut off before it ended"
                        : h.last_end != "ok" ? ", " + h.last_end
                                             : "";
    std::cout << "\nlast run: " << h.last_begin->op << " by " << h.last_begin->holder << " at " << h.last_begin_at
              << ended << "\n";
  }
  return 0;
}

int RunForceUnlock(const Registry& registry, const CommonOptions& common, const std::string& id, bool force, bool yes) {
  auto session = OpenSession(registry, common, true);
  if (!session) return 1;
  Journal& journal = *session->journal;
  Status s = journal.ForceUnlock(id, false);
  if (!s && force) {
    // Refused because its holder still runs: with --force, taken only once the operator has
    // seen whom they take it from, and said so.
    auto holder = journal.Holder();
    if (holder.ok() && *holder && (*holder)->id == id) {
      std::string what = "the lock " + id + " on " + journal.Describe() + " is held by " + (*holder)->Describe() +
                         ", which is still running. Taking it lets another run start while that one still writes "
                         "the journal and changes the world; the step it is running may finish unrecorded and run "
                         "again.";
      if (yes) {
        std::cerr << "reconcile: warning: " << what << " Taking it (--yes).\n";
      } else if (!Confirm(what + "\nTake the lock from it?")) {
        Fail(what + (::isatty(0)
                         ? " Not confirmed; nothing was changed."
                         : " There is no terminal to ask on; nothing was changed (pass --yes as well to take it)."));
        return 1;
      }
      s = journal.ForceUnlock(id, true);
    }
  }
  if (!s) {
    Fail(s.message());
    return 1;
  }
  std::cout << "Released the lock " << id << " on " << journal.Describe() << ".\n";
  return 0;
}

}  // namespace reconcile
