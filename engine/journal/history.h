// What the journal's records add up to: which stages are complete, what each resource was
// before reconcile first changed it and what reconcile last wrote, which steps were started
// and never finished, and the last failure. Apply, rollback, plan and status all read this.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "engine/journal/journal.h"
#include "engine/journal/records.h"
#include "engine/journal/stored_json.h"

namespace reconcile {

// One change reconcile began on a resource, as its intent record has it.
struct StepHistory {
  std::uint64_t seq = 0;
  std::string op;     // apply | rollback
  std::string stage;  // for a rollback: the stage it went back to
  StoredJson prior;   // sealed: the state observed just before the change
};

struct ResourceHistory {
  std::string type;
  std::vector<StepHistory> steps;        // in journal order
  StoredJson last_state;                 // sealed state reconcile last wrote
  std::string last_op;                   // the op (apply | rollback) of the step that wrote it
  std::uint64_t last_done = 0;           // the record of that step's outcome
  StoredJson last_desired;               // sealed: what that step's intent asked for
  std::set<std::string> applied_stages;  // stages in which an apply changed it
  bool rolled_back = false;              // a rollback has changed it since
};

struct PendingStep {
  std::uint64_t seq = 0;
  std::string op, stage, address, action, at;
  StoredJson desired;  // sealed: what the step was about to write
};

// An update or delete an apply made of something that existed, as the TTL waits need it: its
// prior's whole-number attributes (a cached TTL is one), and when it was done.
struct ChangeSeen {
  std::uint64_t seq = 0;  // of its outcome, to tell which is latest across stages
  std::string at;
  nlohmann::json prior_numbers;  // attribute → integer
};

struct History {
  std::set<std::string> complete;  // stage names whose checkpoint stands
  std::map<std::string, ResourceHistory> resources;
  std::vector<PendingStep> pending;             // intents with no done/failed after them
  std::optional<journal::Failed> last_failure;  // since the last run that ended ok
  std::string last_failure_at;
  std::optional<journal::Begin> last_begin;
  std::string last_begin_at;
  // The last run was a rollback and wrote its rollback_complete: it finished. A rollback cut
  // off (or failed) has un-completed the stages it undoes without finishing.
  bool last_rollback_finished = false;
  // The last run was a rollback that has not finished: it was cut off, failed or stopped.
  bool RollbackUnfinished() const { return last_begin && last_begin->op == "rollback" && !last_rollback_finished; }
  // How the last run ended ("ok", "failed", "interrupted"); "" when it has not: running, or
  // cut off.
  std::string last_end;
  // The stages (`to`) rollbacks went back to, one entry for each run of rollbacks with no
  // apply between them (a rollback resumed or repeated is the same going back).
  std::vector<std::vector<std::string>> rollback_targets;
  std::uint64_t last_seq = 0;
  std::string salt;  // of the last sealed value written, "" when none was
  // address → stage → the latest such change made there.
  std::map<std::string, std::map<std::string, ChangeSeen>> changes_seen;

  // The first stage of `stages` whose checkpoint is missing, or stages.size() when all are.
  std::size_t NextStage(const std::vector<std::string>& stages) const;
};

// The summary, record by record: what a checkpoint keeps (checkpoint.h), so a command reads
// only the records after it. Of a resource's steps in a row in one stage, only the first is
// kept (it alone can cross from a stage into a later one, which is what rollback looks for):
// the same apply run again adds nothing. A resource changed in two stages still adds two
// steps for each rollback and apply across them.
class HistoryFold {
 public:
  void Add(const JournalRecord& r);
  // The same, taking the record's states (a record just written, nobody else's).
  void Add(JournalRecord&& r);
  History Result() const;
  // Result(), shared rather than copied: a run reads the summary several times (opening,
  // after the lock, each stage), and a copy of a thousand resources' states is milliseconds.
  // The fold copies it only when it changes while a reader still holds it.
  std::shared_ptr<const History> Shared() const;
  std::uint64_t last_seq() const { return h_->last_seq; }

  // As JSON text (a checkpoint's), each state as [offset, length] of its JSON text in `states`
  // (written in a row, unescaped: their text is most of a summary), and back; nullopt for
  // anything else.
  void WriteJson(std::string* out, std::string* states) const;
  static std::optional<HistoryFold> FromJson(nlohmann::json&& j, std::string_view states);

 private:
  History& Mine();                     // h_, copied first if a reader holds it
  void Count(const JournalRecord& r);  // Add's first half: its number, its salt
  // Add's second half: what the record (decoded: `entry`) adds; r's states may be taken.
  void Fold(const JournalRecord& r, std::optional<journal::Entry> entry);
  std::shared_ptr<History> h_ = std::make_shared<History>();
  std::map<std::string, PendingStep> open_;  // each address's intent with no outcome yet
  // Each address's latest intent, when it updates or deletes what existed: its prior's numbers.
  std::map<std::string, nlohmann::json> qualifying_;
  bool after_rollback_ = false;                    // the last begin was a rollback's
  mutable std::shared_ptr<const History> shared_;  // with steps pending: Result() since the last Add
};

History Summarize(const std::vector<JournalRecord>& records);

}  // namespace reconcile
