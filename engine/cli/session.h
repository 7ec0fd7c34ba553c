// What every verb starts from: the spec loaded and checked (its errors printed), its graph,
// and — for the verbs that need it — its journal, what the journal adds up to, and the
// sealer for sensitive values.
#pragma once

#include <memory>
#include <optional>

#include "engine/cli/commands.h"
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
  History history;
  Sealer sealer;

  const Spec& spec() const { return *load.spec; }
  std::vector<std::string> StageNames() const { return load.spec->StageNames(); }
};

// Null after printing why (spec errors, an unreadable or damaged journal, a bad key).
std::unique_ptr<Session> OpenSession(const Registry& registry, const CommonOptions& common, bool with_journal);

// Re-reads the journal into session->history (after taking the lock).
bool RefreshHistory(Session* session);

// Steps a killed run began (an intent with no outcome) that the world shows finished are
// journaled as done, so status stops calling them unfinished and rollback reads them as the
// work they were. The rest stay pending for the run's own plan. False after printing why.
bool CloseFinishedSteps(Session* session);

// Where plan and apply start: after the journal's completed stages (the last stage when all
// are complete), and whether sensitive prior values can be kept.
PlanOptions PlanOptionsFor(const Session& session);

// By resource: the one-shot steps the journal has as done and not reverted since.
std::vector<bool> OnceDone(const Spec& spec, const History& history);

void Fail(const std::string& message);

// Asks on the terminal; false without a terminal (the caller says to pass --yes).
bool Confirm(const std::string& question);

}  // namespace reconcile
