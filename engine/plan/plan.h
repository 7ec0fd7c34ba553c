// The plan: for each stage in order, the steps that take the world from what it is (or what
// the previous stage left it as) to what the spec wants, ordered by the dependency graph.
// MakePlan probes every resource once, through its provider, in batches per provider.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/graph/graph.h"
#include "engine/plan/diff.h"
#include "engine/spec/spec.h"

namespace reconcile {

// A step's changes as they are read: a view of those it lists, or those it keeps in its
// desired state (Step::KeepChangesInDesired), made again when asked.
class ChangeList {
 public:
  explicit ChangeList(const std::vector<AttrChange>* listed) : listed_(listed) {}
  explicit ChangeList(std::vector<AttrChange> made) : made_(std::move(made)) {}
  ChangeList(const ChangeList&) = delete;
  ChangeList& operator=(const ChangeList&) = delete;

  const AttrChange* begin() const { return items().data(); }
  const AttrChange* end() const { return items().data() + items().size(); }
  std::size_t size() const { return items().size(); }
  bool empty() const { return items().empty(); }
  const AttrChange& operator[](std::size_t i) const { return items()[i]; }

 private:
  const std::vector<AttrChange>& items() const { return listed_ ? *listed_ : made_; }
  const std::vector<AttrChange>* listed_ = nullptr;
  std::vector<AttrChange> made_;
};

struct Step {
  std::size_t resource = 0;  // index into Spec::resources
  std::size_t stage = 0;
  Action action = Action::kNone;
  // What it changes, attribute by attribute.
  ChangeList changes() const;
  std::vector<AttrChange>& mutable_changes();  // listed from then on
  // A create that sets each of its desired attributes from nothing (none sensitive, none
  // known only after apply) lists no change: changes() makes them from `desired`. A million
  // creates held every value twice, as a change and as what is wanted.
  void KeepChangesInDesired();
  bool irreversible = false;
  std::string irreversible_reason;
  std::string reason;              // why this step exists, for --explain; empty: StepReason's
  std::vector<std::size_t> after;  // resources whose steps in this stage must finish first
  State prior;                     // probed, or the previous stage's desired state
  State desired;                   // secrets resolved: never rendered

 private:
  std::vector<AttrChange> ChangesFromDesired() const;
  std::vector<AttrChange> changes_;
  bool changes_in_desired_ = false;
};

struct StagePlan {
  std::size_t stage = 0;
  std::vector<Step> steps;
  std::vector<std::string> guards;  // providers' safety limits the steps cross (need --force)
};

struct PlanCounts {
  std::size_t create = 0, update = 0, remove = 0, check = 0, irreversible = 0;
  std::size_t changes() const { return create + update + remove; }
};

struct Plan {
  std::vector<StagePlan> stages;  // every stage from the first one planned, empty ones too
  std::string spec_sha256;
  std::uint64_t journal_seq = 0;  // the journal's last record when planned; 0 = no journal

  // Counted over every stage, or over one (what `plan --stage` shows and its exit code tells).
  PlanCounts Counts(std::optional<std::size_t> only_stage = std::nullopt) const;
  bool HasChanges(std::optional<std::size_t> only_stage = std::nullopt) const {
    return Counts(only_stage).changes() > 0;
  }
};

// What reconcile last wrote of a resource's write_only attributes (AttrSchema::write_only),
// and where a step cut off or failed since asked for another value, that one too: the world
// holds one of the two, so a probe fills in whichever differs from what it is compared with.
struct WrittenOnly {
  AttrMap wrote;
  AttrMap or_maybe;
};

struct PlanOptions {
  std::size_t first_stage = 0;            // stages before it are complete (from the journal)
  std::optional<std::size_t> last_stage;  // plan no further (apply plans one stage as it begins)
  std::vector<bool> once_done;            // by resource: a one-shot step the journal has as done (and not
                                          // reverted since), never planned again
  bool keeps_secrets = false;             // the journal has a key to seal sensitive prior values
  std::vector<WrittenOnly> written;       // by resource: write_only values reconcile last wrote
                                          // (WriteOnlyValues), taken as what a probe cannot read
  std::vector<bool> handler_due;          // by resource: a handler notified since it last ran (a run
                                          // cut off between the change and it): planned in first_stage
};

// Compare (diff.h), then the resource's provider's Review: what every plan, re-probe and
// rollback uses to decide a step.
Diff CompareResource(const Resource& r, const State& prior, const State& desired);

Result<Plan> MakePlan(const Spec& spec, const DependencyGraph& graph, const PlanOptions& options);

// The one way a comparison becomes a step (plan, a stage planned as it begins, a step read
// again just before it runs, rollback): its action, changes (sensitive ones marked) and
// whether it can be undone. `reason` and `after` are the caller's.
Step StepFrom(const Spec& spec, std::size_t resource, std::size_t stage, Diff diff, State prior, State desired);

// Why a step exists, for --explain and --json: its own reason, or for one left without (a
// resource's first step, where a million creates would each hold the same sentence) the one
// its action says: it does not exist, it should not, or the world differs in what it changes.
std::string StepReason(const Spec& spec, const Step& step);

// A handler's step: it runs `desired` once, after the steps of `by` (its notifiers that change
// here). Planned by MakePlan and by rollback.
Step HandlerStep(const Spec& spec, std::size_t handler, std::size_t stage, const std::vector<std::size_t>& by,
                 State desired);

// Handlers run at the end of their stage: each waits for every change of `steps` that is not
// itself behind a check (a check waits for the handler, as for any change).
void HandlersLast(const Spec& spec, std::vector<Step>* steps);

// What the providers' safety limits say of these steps (one stage's); empty when within them.
std::vector<std::string> Guards(const Spec& spec, const std::vector<Step>& steps);

// Reads the world for every resource i with want[i] set (want[i] holds what it should be, so
// the provider knows what to look for), one Probe call per provider (for each 65,536
// resources: a million are read in rounds, not held all at once). `written[i]`: the
// write_only values reconcile last wrote, filled into what exists where want[i] names them.
// Each want[i] is lent to its provider for the probe, not copied, and is as it was on return.
Result<std::vector<State>> ProbeResources(const Spec& spec, std::vector<std::optional<State>>* want,
                                          const std::vector<WrittenOnly>* written = nullptr);

// ProbeResources a round at a time (probe.cc), for a caller that lets each round's states go
// before reading the next: the `round` resources (indices, ascending, each with want[i] set)
// read into (*states)[k] for round[k]. What cannot be read is added to `failed`; `configs`
// holds each provider instance's settings (secrets read) once, for every round. A round this
// size is still one probe per provider (one shell per host) for any spec people write, while
// the targets and answers of a million at once were a quarter of a gigabyte.
inline constexpr std::size_t kProbeRound = 1 << 16;
class ProbeFailures {
 public:
  // One cause (a host's key, an unreachable API) is said once, with every resource it stopped.
  void Add(const std::string& address, const std::string& message);
  bool empty() const { return failed_.empty(); }
  Error ToError() const;

 private:
  std::vector<std::pair<std::string, std::string>> failed_;  // message, addresses
};
void ProbeRound(const Spec& spec, std::vector<std::optional<State>>* want, const std::vector<WrittenOnly>* written,
                const std::vector<std::size_t>& round, std::vector<State>* states, ProbeFailures* failed,
                std::map<std::string, ProviderConfig>* configs);

// Reads the computed attributes (AttrSchema::computed) of what the spec refers to for one
// into spec.read, so Desired() substitutes them: of every such resource, or only of those
// `referrers` refer to. What does not exist is forgotten, and a reference to it is known only
// after apply. MakePlan calls it first; the executor again for a step that holds such a value.
Status ReadComputed(const Spec& spec, const std::vector<std::size_t>* referrers = nullptr);

// Text for people: one line per step with its symbol, updates as old → new per attribute.
// `only_stage` limits the output (and its summary line) to one stage; `explain` adds why
// each step exists.
struct RenderOptions {
  std::optional<std::size_t> only_stage;
  bool explain = false;
  std::string title;      // first line; default "Plan for NAME (PATH)"
  bool rollback = false;  // stages read "back to the end of stage S"
  // Why apply will stop before anything whatever the plan says (a rollback cut off and not
  // finished), said with the plan: its last line in text, `apply_stops` in JSON, the summary
  // of a report. "" when apply would run it.
  std::string apply_stops;
  // A saved plan of the one stage `plan --stage` showed: apply runs through it, and runs no
  // stage it did not show (`reviewed_stage` in JSON). "" when every stage was shown.
  std::string reviewed_stage;
};
std::string RenderText(const Spec& spec, const Plan& plan, const RenderOptions& options);
// Shown for one stage that is complete, so not planned again: what the plan says instead of
// "no changes" (text and reports). "" otherwise.
std::string CompleteStageNote(const Spec& spec, const Plan& plan, const RenderOptions& options);

// The --json document; docs/plan-json.md is its schema. Secrets never appear in it.
std::string RenderJson(const Spec& spec, const Plan& plan, const RenderOptions& options);

// A change report for a change request or a review: --format markdown, or html (standalone,
// with the dependency graph inlined as SVG when `graph_svg` is given). Secrets never appear.
std::string RenderMarkdown(const Spec& spec, const Plan& plan, const RenderOptions& options,
                           const std::string& graph_svg);
std::string RenderHtml(const Spec& spec, const Plan& plan, const RenderOptions& options, const std::string& graph_svg);

// One phrase saying what a check looks at, e.g. `tcp 127.0.0.1:5432 closed`.
std::string CheckSummary(const Spec& spec, const Resource& r, const AttrMap& attrs);
// What a step does to one attribute, as people read it: `old → new`, the new value, or a summary.
std::string ChangeText(const Step& step, const AttrChange& c);
// The same, knowing the attribute's type from the spec: a command as the sh line it runs
// (scripts folded onto several lines), a table's secret entries hidden one by one.
std::string ChangeText(const Spec& spec, const Step& step, const AttrChange& c);

const char* ActionName(Action a);    // "create", for JSON and the journal
const char* ActionSymbol(Action a);  // "+", for people

// The irreversible steps of a plan, one per line ("\n  stage: address (why)"), for refusals.
std::string IrreversibleSteps(const Spec& spec, const Plan& plan);

}  // namespace reconcile
