#include "engine/journal/history.h"

#include <algorithm>

namespace reconcile {

std::size_t History::NextStage(const std::vector<std::string>& stages) const {
  for (std::size_t i = 0; i < stages.size(); ++i)
    if (!complete.count(stages[i])) return i;
  return stages.size();
}

namespace {

// Adds one record to the summary; `open` holds each address's intent with no outcome yet.
struct Summarizer {
  History& h;
  std::map<std::string, PendingStep>& open;
  const JournalRecord& r;
  bool& after_rollback;  // the last begin was a rollback's

  void operator()(const journal::Begin& b) {
    h.last_begin = b;
    h.last_begin_at = r.at;
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
  void operator()(const journal::Intent& i) {
    ResourceHistory& res = h.resources[i.address];
    res.type = i.type;
    res.steps.push_back({r.seq, i.op, i.stage, i.prior});
    open[i.address] = PendingStep{r.seq, i.op, i.stage, i.address, i.action, r.at, i.desired};
  }
  void operator()(const journal::Done& d) {
    ResourceHistory& res = h.resources[d.address];
    res.last_state = d.state;
    res.last_op = d.op;
    res.last_done = r.seq;
    auto intent = open.find(d.address);
    res.last_desired = intent != open.end() ? intent->second.desired : nlohmann::json();
    if (res.last_op == "rollback") res.rolled_back = true;
    else res.applied_stages.insert(d.stage);
    open.erase(d.address);
  }
  void operator()(const journal::Failed& f) {
    open.erase(f.address);
    h.last_failure = f;
    h.last_failure_at = r.at;
  }
  void operator()(const journal::StageComplete& c) { h.complete.insert(c.stage); }
  void operator()(const journal::RollbackComplete& c) {
    for (const std::string& s : c.undone) h.complete.erase(s);
  }
  void operator()(const journal::End& e) {
    if (e.result == "ok") h.last_failure.reset();
  }
};

}  // namespace

History Summarize(const std::vector<JournalRecord>& records) {
  History h;
  std::map<std::string, PendingStep> open;
  bool after_rollback = false;
  for (const JournalRecord& r : records) {
    h.last_seq = r.seq;
    if (auto entry = journal::Decode(r)) std::visit(Summarizer{h, open, r, after_rollback}, *entry);
  }
  for (auto& [address, p] : open) h.pending.push_back(p);
  std::sort(h.pending.begin(), h.pending.end(),
            [](const PendingStep& a, const PendingStep& b) { return a.seq < b.seq; });
  return h;
}

}  // namespace reconcile
