// What the journal's records add up to: which stages are complete, what each resource was
// before reconcile first changed it and what reconcile last wrote, which steps were started
// and never finished, and the last failure. Apply, rollback, plan and status all read this.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/journal/journal.h"
#include "engine/journal/records.h"

namespace reconcile {

// One change reconcile began on a resource, as its intent record has it.
struct StepHistory {
  std::uint64_t seq = 0;
  std::string op;        // apply | rollback
  std::string stage;     // for a rollback: the stage it went back to
  nlohmann::json prior;  // sealed: the state observed just before the change
};

struct ResourceHistory {
  std::string type;
  std::vector<StepHistory> steps;        // in journal order
  nlohmann::json last_state;             // sealed state reconcile last wrote
  std::string last_op;                   // the op (apply | rollback) of the step that wrote it
  std::uint64_t last_done = 0;           // the record of that step's outcome
  nlohmann::json last_desired;           // sealed: what that step's intent asked for
  std::set<std::string> applied_stages;  // stages in which an apply changed it
  bool rolled_back = false;              // a rollback has changed it since
};

struct PendingStep {
  std::uint64_t seq = 0;
  std::string op, stage, address, action, at;
  nlohmann::json desired;  // sealed: what the step was about to write
};

struct History {
  std::set<std::string> complete;  // stage names whose checkpoint stands
  std::map<std::string, ResourceHistory> resources;
  std::vector<PendingStep> pending;             // intents with no done/failed after them
  std::optional<journal::Failed> last_failure;  // since the last run that ended ok
  std::string last_failure_at;
  std::optional<journal::Begin> last_begin;
  std::string last_begin_at;
  // The stages (`to`) rollbacks went back to, one entry for each run of rollbacks with no
  // apply between them (a rollback resumed or repeated is the same going back).
  std::vector<std::vector<std::string>> rollback_targets;
  std::uint64_t last_seq = 0;

  // The first stage of `stages` whose checkpoint is missing, or stages.size() when all are.
  std::size_t NextStage(const std::vector<std::string>& stages) const;
};

History Summarize(const std::vector<JournalRecord>& records);

}  // namespace reconcile
