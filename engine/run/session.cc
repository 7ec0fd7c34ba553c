#include "engine/run/session.h"
#include "engine/journal/records.h"

#include <algorithm>
#include <set>

#include "engine/plan/diff.h"

namespace reconcile {

Status RefreshHistory(Session* session) {
  auto summary = session->journal->SharedSummary();
  if (!summary) return summary.error();
  session->history_ = std::move(*summary);
  // ${run}: a stage a rollback went back before counts one more run; rollbacks one after
  // another, with no apply between, count once.
  Spec& spec = *session->load.spec;
  spec.rollbacks_before.assign(spec.stages.size(), 0);
  for (const std::vector<std::string>& run : session->history().rollback_targets) {
    std::size_t earliest = spec.stages.size();
    for (const std::string& to : run)
      if (auto index = spec.FindStage(to)) earliest = std::min(earliest, *index);
    for (std::size_t s = earliest + 1; s < spec.stages.size(); ++s) ++spec.rollbacks_before[s];
  }
  // One salt a journal: the key is derived once a run, not once for each run it reads back.
  if (session->sealer.keeps_secrets() && !session->history().salt.empty())
    session->sealer.AdoptSalt(session->history().salt);
  return Status::Ok();
}

Status CloseFinishedSteps(Session* session, const std::function<void(const std::string&)>& say) {
  const Spec& spec = session->spec();
  std::vector<std::optional<State>> want(spec.resources.size());
  std::vector<const PendingStep*> pending_of(spec.resources.size(), nullptr);
  for (const PendingStep& p : session->history().pending) {
    const Resource* r = spec.Find(p.address);
    // A handler's check tells a state, not that it ran this time: it runs again instead. A
    // one-shot step with nothing to tell (no check) reads as absent, which is no news of
    // whether its run or its revert finished: it stays pending for apply or rollback to ask.
    if (!r || r->schema->is_check || r->IsHandler()) continue;
    if (r->IsOnce() && !r->schema->done_check_attr.empty() && !r->attrs.count(r->schema->done_check_attr)) continue;
    std::set<std::string> unknown;
    auto desired = session->sealer.Open(p.desired, &unknown);
    if (!desired || !unknown.empty()) continue;  // a secret that was not kept: cannot tell
    std::size_t i = spec.Index(p.address).value();
    want[i] = std::move(*desired);
    pending_of[i] = &p;
  }
  if (std::none_of(pending_of.begin(), pending_of.end(), [](const PendingStep* p) { return p != nullptr; }))
    return Status::Ok();
  // A probe that fails here is not this step's business: the run's own plan says why.
  auto written = WriteOnlyValues(spec, session->history(), session->sealer);
  auto probed = ProbeResources(spec, &want, &written);
  if (!probed) return Status::Ok();
  std::vector<JournalRecord> closed;
  for (std::size_t i = 0; i < spec.resources.size(); ++i) {
    const PendingStep* p = pending_of[i];
    if (!p || CompareResource(spec.resources[i], (*probed)[i], *want[i]).action != Action::kNone) continue;
    closed.push_back(journal::Encode(journal::Done{p->op, p->stage, p->address, p->desired, p->seq}));
    say(p->address + " (" + p->op + " " + p->action + ", stage " + p->stage + ") was cut off at " + p->at +
        " but the world shows it done; recorded as done");
  }
  if (closed.empty()) return Status::Ok();
  if (Status s = session->journal->AppendAll(&closed); !s) return s;
  return RefreshHistory(session);
}

PlanOptions PlanOptionsFor(const Session& session) {
  PlanOptions o;
  // Completed stages are not planned again; once all are, the last one is re-checked so
  // drift still shows and a converged world plans to nothing.
  std::size_t next = session.history().NextStage(session.StageNames());
  o.first_stage = std::min(next, session.spec().stages.size() - 1);
  o.keeps_secrets = session.sealer.keeps_secrets();
  o.once_done = OnceDone(session.spec(), session.history());
  o.written = WriteOnlyValues(session.spec(), session.history(), session.sealer);
  o.handler_due = HandlersDue(session.spec(), session.history());
  return o;
}

std::vector<WrittenOnly> WriteOnlyValues(const Spec& spec, const History& history, const Sealer& sealer) {
  std::vector<WrittenOnly> out(spec.resources.size());
  for (std::size_t i = 0; i < spec.resources.size(); ++i) {
    const Resource& r = spec.resources[i];
    if (std::none_of(r.schema->attrs.begin(), r.schema->attrs.end(), [](const AttrSchema& a) { return a.write_only; }))
      continue;
    auto h = history.resources.find(r.address);
    if (h == history.resources.end() || h->second.last_state.is_null()) continue;
    // The step whose outcome wrote last_state (not one begun after it that failed or was cut
    // off: an apply that goes on sets its value again; a rollback, PlanRollback says).
    const StepHistory* writer = nullptr;
    for (const StepHistory& st : h->second.steps)
      if (st.seq < h->second.last_done) writer = &st;
    if (!writer) continue;
    std::set<std::string> unknown;
    auto wrote = sealer.Open(h->second.last_state, &unknown);
    if (!wrote || !wrote->exists) continue;
    std::optional<State> then;  // the spec at the stage of the step that wrote it, when needed
    for (const AttrSchema& a : r.schema->attrs) {
      if (!a.write_only) continue;
      if (auto v = wrote->attrs.find(a.name); v != wrote->attrs.end()) {
        out[i].wrote[a.name] = v->second;
      } else if (unknown.count(a.name)) {
        if (!then) {
          auto stage = spec.FindStage(writer->stage);
          auto d = stage ? Desired(spec, r, *stage, true) : Result<State>(Error{""});
          then = d ? std::move(*d) : State{};
        }
        if (auto v = then->attrs.find(a.name); v != then->attrs.end()) out[i].wrote[a.name] = v->second;
      }
    }
  }
  // A step cut off (or failed) after it may have written its own value.
  for (const PendingStep& p : history.pending) {
    const Resource* r = spec.Find(p.address);
    if (!r) continue;
    std::size_t i = spec.Index(p.address).value();
    auto asked = sealer.Open(p.desired, nullptr);
    if (!asked) continue;
    for (const auto& [attr, v] : out[i].wrote)
      if (auto a = asked->attrs.find(attr); a != asked->attrs.end() && !(a->second == v))
        out[i].or_maybe[attr] = a->second;
  }
  return out;
}

std::vector<bool> OnceDone(const Spec& spec, const History& history) {
  // A one-shot step whose last outcome was an apply's has happened; a rollback's revert
  // since makes it due again.
  std::vector<bool> done(spec.resources.size(), false);
  for (std::size_t i = 0; i < spec.resources.size(); ++i) {
    if (!spec.resources[i].IsOnce()) continue;
    auto h = history.resources.find(spec.resources[i].address);
    done[i] = h != history.resources.end() && h->second.last_op == "apply";
  }
  return done;
}

std::vector<bool> HandlersDue(const Spec& spec, const History& history) {
  std::vector<bool> due(spec.resources.size(), false);
  auto last_done = [&](std::size_t i) -> std::uint64_t {
    auto h = history.resources.find(spec.resources[i].address);
    return h == history.resources.end() ? 0 : h->second.last_done;
  };
  for (std::size_t i = 0; i < spec.resources.size(); ++i)
    for (std::size_t from : spec.resources[i].notified_by)
      if (last_done(from) > last_done(i)) due[i] = true;
  return due;
}

}  // namespace reconcile
