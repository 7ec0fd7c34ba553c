#include "engine/journal/history.h"

#include <algorithm>
#include <atomic>

#include "engine/journal/seal.h"

namespace reconcile {

std::size_t History::NextStage(const std::vector<std::string>& stages) const {
  for (std::size_t i = 0; i < stages.size(); ++i)
    if (!complete.count(stages[i])) return i;
  return stages.size();
}

namespace {

// A prior's whole-number attributes: all a TTL wait reads of it (the sealed form keeps plain
// values plain, under "attrs" or, in older journals, at the top).
nlohmann::json PriorNumbers(const nlohmann::json& prior) {
  nlohmann::json out = nlohmann::json::object();
  const nlohmann::json& attrs = prior.contains("attrs") ? prior["attrs"] : prior;
  if (attrs.is_object())
    for (const auto& [k, v] : attrs.items())
      if (v.is_number_integer()) out[k] = v;
  return out;
}

// Adds one record to the summary, taking its states (the entry is the fold's own copy).
struct Summarizer {
  History& h;
  std::map<std::string, PendingStep>& open;
  std::map<std::string, nlohmann::json>& qualifying;
  const JournalRecord& r;
  bool& after_rollback;

  void operator()(const journal::Begin& b) {
    h.last_begin = b;
    h.last_begin_at = r.at;
    h.last_rollback_finished = false;
    h.last_end.clear();
    // A rollback un-completes the stages it undoes before its first step, so a rollback cut
    // off halfway never leaves a stage counted complete whose work is partly gone.
    if (b.op == "rollback") {
      for (const std::string& s : b.undo) h.complete.erase(s);
      if (!after_rollback) h.rollback_targets.emplace_back();
      h.rollback_targets.back().push_back(b.to);
      after_rollback = true;
    } else {
      after_rollback = false;
    }
    // Steps left open by an earlier run stay pending until re-probed by this one.
  }
  void operator()(journal::Intent& i) {
    ResourceHistory& res = h.resources[i.address];
    res.type = i.type;
    if ((i.action == "update" || i.action == "delete") && i.prior.is_object() && i.prior.value("exists", false))
      qualifying[i.address] = PriorNumbers(i.prior);
    else qualifying.erase(i.address);
    // A step in the same stage as the one before it never crosses into a later stage (that
    // one did, or neither did), and a rollback asks only for crossings, so it is not kept.
    if (res.steps.empty() || res.steps.back().stage != i.stage)
      res.steps.push_back({r.seq, i.op, i.stage, std::move(i.prior)});
    open[i.address] = PendingStep{r.seq, i.op, i.stage, i.address, i.action, r.at, std::move(i.desired)};
  }
  void operator()(journal::Done& d) {
    ResourceHistory& res = h.resources[d.address];
    res.last_state = std::move(d.state);
    res.last_op = d.op;
    res.last_done = r.seq;
    auto intent = open.find(d.address);
    res.last_desired = intent != open.end() ? std::move(intent->second.desired) : StoredJson();
    if (res.last_op == "rollback") res.rolled_back = true;
    else res.applied_stages.insert(d.stage);
    open.erase(d.address);
    if (d.op == "apply")
      if (auto q = qualifying.find(d.address); q != qualifying.end())
        h.changes_seen[d.address][d.stage] = ChangeSeen{r.seq, r.at, q->second};
  }
  void operator()(const journal::Failed& f) {
    open.erase(f.address);
    h.last_failure = f;
    h.last_failure_at = r.at;
  }
  void operator()(const journal::StageComplete& c) { h.complete.insert(c.stage); }
  void operator()(const journal::RollbackComplete& c) {
    for (const std::string& s : c.undone) h.complete.erase(s);
    h.last_rollback_finished = true;
  }
  void operator()(const journal::End& e) {
    h.last_end = e.result;
    if (e.result == "ok") h.last_failure.reset();
  }
};

}  // namespace

void HistoryFold::Add(const JournalRecord& r) {
  Count(r);
  Fold(r, journal::Decode(r));
}

void HistoryFold::Add(JournalRecord&& r) {
  Count(r);  // the salt first: it is read from the states Decode takes
  auto entry = journal::Decode(std::move(r));
  Fold(r, std::move(entry));
}

void HistoryFold::Count(const JournalRecord& r) {
  shared_.reset();
  History& h = Mine();
  h.last_seq = r.seq;
  if (r.kind == "intent" || r.kind == "done")
    if (auto salt = Sealer::SaltIn(r.data)) h.salt = *salt;
}

void HistoryFold::Fold(const JournalRecord& r, std::optional<journal::Entry> entry) {
  if (entry) std::visit(Summarizer{*h_, open_, qualifying_, r, after_rollback_}, *entry);
}

History HistoryFold::Result() const {
  History h = *h_;
  for (const auto& [address, p] : open_) h.pending.push_back(p);
  std::sort(h.pending.begin(), h.pending.end(),
            [](const PendingStep& a, const PendingStep& b) { return a.seq < b.seq; });
  return h;
}

History& HistoryFold::Mine() {
  // Only the fold adds holders, and under its journal's lock: a count that drops meanwhile
  // costs one copy too many, never a change under a reader. The count is read relaxed; the
  // fence orders a last reader's reads (before its release of the count) before our writes.
  if (h_.use_count() > 1) h_ = std::make_shared<History>(*h_);
  std::atomic_thread_fence(std::memory_order_acquire);
  return *h_;
}

std::shared_ptr<const History> HistoryFold::Shared() const {
  if (open_.empty()) return h_;  // nothing pending: the summary is the fold's own
  if (!shared_) shared_ = std::make_shared<const History>(Result());
  return shared_;
}

Result<std::shared_ptr<const History>> Journal::SharedSummary() {
  auto h = Summary();
  if (!h) return h.error();
  return std::make_shared<const History>(std::move(*h));
}

Result<History> Journal::Summary() {
  auto records = ReadShared();
  if (!records) return records.error();
  return Summarize(**records);
}

History Summarize(const std::vector<JournalRecord>& records) {
  HistoryFold fold;
  for (const JournalRecord& r : records) fold.Add(r);
  return fold.Result();
}

}  // namespace reconcile
