#include "engine/journal/history.h"

#include <algorithm>

namespace reconcile {

std::size_t History::NextStage(const std::vector<std::string>& stages) const {
  for (std::size_t i = 0; i < stages.size(); ++i)
    if (!complete.count(stages[i])) return i;
  return stages.size();
}

History Summarize(const std::vector<JournalRecord>& records) {
  History h;
  std::map<std::string, PendingStep> open;  // address → intent without an outcome
  bool after_rollback = false;  // the last begin was a rollback's
  for (const JournalRecord& r : records) {
    h.last_seq = r.seq;
    const nlohmann::json& d = r.data;
    if (r.kind == "begin") {
      h.last_begin = r;
      // A rollback un-completes the stages it undoes before its first step, so a rollback cut
      // off halfway never leaves a stage counted complete whose work is partly gone.
      if (d.value("op", "") == "rollback") {
        for (const std::string& s : d.value("undo", std::vector<std::string>())) h.complete.erase(s);
        if (!after_rollback) h.rollback_targets.emplace_back();
        h.rollback_targets.back().push_back(d.value("to", ""));
        after_rollback = true;
      } else {
        after_rollback = false;
      }
      // Steps left open by an earlier run stay pending until re-probed by this one.
    } else if (r.kind == "intent") {
      std::string address = d.value("address", "");
      ResourceHistory& res = h.resources[address];
      res.type = d.value("type", "");
      res.steps.push_back({r.seq, d.value("op", ""), d.value("stage", ""), d.value("prior", nlohmann::json())});
      open[address] = PendingStep{r.seq,    d.value("op", ""), d.value("stage", ""), address, d.value("action", ""),
                                  r.at,     d.value("desired", nlohmann::json())};
    } else if (r.kind == "done") {
      std::string address = d.value("address", "");
      ResourceHistory& res = h.resources[address];
      res.last_state = d.value("state", nlohmann::json());
      res.last_op = d.value("op", "");
      res.last_done = r.seq;
      auto intent = open.find(address);
      res.last_desired = intent != open.end() ? intent->second.desired : nlohmann::json();
      if (res.last_op == "rollback") res.rolled_back = true;
      else res.applied_stages.insert(d.value("stage", ""));
      open.erase(address);
    } else if (r.kind == "failed") {
      open.erase(d.value("address", ""));
      h.last_failure = r;
    } else if (r.kind == "stage_complete") {
      h.complete.insert(d.value("stage", ""));
    } else if (r.kind == "rollback_complete") {
      // The record lists the stages it undid, so the journal reads right even if the
      // spec's stage list changes later.
      for (const std::string& s : d.value("undone", std::vector<std::string>())) h.complete.erase(s);
    } else if (r.kind == "end" && d.value("result", "") == "ok") {
      h.last_failure.reset();
    }
  }
  for (auto& [address, p] : open) h.pending.push_back(p);
  std::sort(h.pending.begin(), h.pending.end(), [](const PendingStep& a, const PendingStep& b) { return a.seq < b.seq; });
  return h;
}

}  // namespace reconcile
