// `reconcile status` and `reconcile force-unlock`: what the journal says, and the way out of
// a lock whose holder is gone.
#include <iostream>

#include "engine/cli/session.h"

namespace reconcile {

int RunStatus(const Registry& registry, const CommonOptions& common) {
  auto session = OpenSession(registry, common, true);
  if (!session) return 1;
  const Spec& spec = session->spec();
  const History& h = session->history;
  std::cout << spec.name << ": journal " << session->journal->Describe() << " (" << h.last_seq << " records)\n";
  auto holder = session->journal->Holder();
  if (!holder) {
    Fail(holder.error().message);
    return 1;
  }
  std::cout << "lock: " << (*holder ? "held by " + (*holder)->Describe() : std::string("free")) << "\n\nstages:\n";
  for (const StageSpec& s : spec.stages)
    std::cout << "  " << (h.complete.count(s.name) ? "complete  " : "pending   ") << s.name << "\n";
  if (!h.pending.empty()) {
    std::cout << "\nstarted and never finished (re-probed by the next apply):\n";
    for (const PendingStep& p : h.pending)
      std::cout << "  " << p.address << ": " << p.op << " " << p.action << " in stage " << p.stage << ", started "
                << p.at << "\n";
  }
  if (h.last_failure) {
    const nlohmann::json& d = h.last_failure->data;
    std::cout << "\nlast failure (" << h.last_failure->at << "): " << d.value("address", "") << " in stage "
              << d.value("stage", "") << ": " << d.value("error", "") << "\n";
  }
  if (h.last_begin) {
    std::cout << "\nlast run: " << h.last_begin->data.value("op", "") << " by " << h.last_begin->data.value("holder", "")
              << " at " << h.last_begin->at << "\n";
  }
  return 0;
}

int RunForceUnlock(const Registry& registry, const CommonOptions& common, const std::string& id) {
  auto session = OpenSession(registry, common, true);
  if (!session) return 1;
  if (Status s = session->journal->ForceUnlock(id); !s) {
    Fail(s.message());
    return 1;
  }
  std::cout << "Released the lock " << id << " on " << session->journal->Describe() << ".\n";
  return 0;
}

}  // namespace reconcile
