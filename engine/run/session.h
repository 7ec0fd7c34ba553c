// What apply, rollback and plan work on: the spec and its graph, the journal, what the journal
// adds up to, and the sealer for sensitive values. The CLI opens one (engine/cli/session.cc);
// the engine's tests build one over the in-memory provider.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/graph/graph.h"
#include "engine/journal/history.h"
#include "engine/journal/seal.h"
#include "engine/plan/plan.h"
#include "engine/spec/spec.h"

namespace reconcile {

struct Session {
  LoadResult load;
  DependencyGraph graph;
  std::unique_ptr<Journal> journal;
  std::shared_ptr<const History> history_ = std::make_shared<const History>();  // RefreshHistory's
  Sealer sealer;

  const Spec& spec() const { return *load.spec; }
  const History& history() const { return *history_; }
  std::vector<std::string> StageNames() const { return load.spec->StageNames(); }
};

// Re-reads the journal into session->history (after taking the lock).
Status RefreshHistory(Session* session);

// Steps a killed run began (an intent with no outcome) that the world shows finished are
// journaled as done, so status stops calling them unfinished and rollback reads them as the
// work they were; each is said through `say`. The rest stay pending for the run's own plan.
Status CloseFinishedSteps(Session* session, const std::function<void(const std::string&)>& say);

// Where plan and apply start: after the journal's completed stages (the last stage when all
// are complete), and whether sensitive prior values can be kept.
PlanOptions PlanOptionsFor(const Session& session);

// By resource: the write_only values reconcile last wrote (PlanOptions::written): sealed in the
// journal, or, not kept (no [state] key), the spec's at the stage of that step; and those a
// step cut off since was writing.
std::vector<WrittenOnly> WriteOnlyValues(const Spec& spec, const History& history, const Sealer& sealer);

// By resource: the one-shot steps the journal has as done and not reverted since.
std::vector<bool> OnceDone(const Spec& spec, const History& history);

// By resource: the handlers a notifier's change has notified since they last ran (a run cut
// off or failed between the two).
std::vector<bool> HandlersDue(const Spec& spec, const History& history);

}  // namespace reconcile
