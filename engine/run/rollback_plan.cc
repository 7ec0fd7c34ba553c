#include "engine/run/rollback_plan.h"
#include "engine/journal/records.h"

#include <algorithm>
#include <set>

#include "engine/plan/diff.h"

namespace reconcile {

namespace {

std::string Shown(const Spec& spec, const Resource& r, const std::string& attr, const Value& v) {
  if (IsNull(v)) return "(none)";
  return IsSensitive(spec, r, attr) ? "(sensitive)" : FormatValue(v);
}

// How `now` differs from what reconcile last wrote (`wrote`, sealed); "" when it does not.
std::string Drift(const Spec& spec, const Resource& r, const Sealer& sealer, const nlohmann::json& wrote_json,
                  const State& now) {
  if (wrote_json.is_null()) return "";
  auto wrote = sealer.Open(wrote_json, nullptr);
  if (!wrote) return "\n  " + r.address + ": " + wrote.error().message;
  if (wrote->exists != now.exists)
    return "\n  " + r.address + (now.exists ? " exists again" : " no longer exists") + " (reconcile left it " +
           (wrote->exists ? "present" : "absent") + ")";
  std::string out;
  if (!now.exists) return out;
  // The same comparison a plan makes, the provider's Review included: what a provider holds
  // to be the same (a password and its verifier, a policy's JSON, a setting "off" and a server
  // without it) is no drift either.
  Diff d = CompareResource(r, now, *wrote);
  for (const AttrChange& c : d.changes) {
    const AttrSchema* a = r.schema->Find(c.name);
    if (a && (a->identity || a->setting)) continue;
    out += "\n  " + r.address + " " + c.name + ": reconcile wrote " + Shown(spec, r, c.name, c.new_value) + ", now " +
           Shown(spec, r, c.name, c.old_value);
  }
  return out;
}

// Whether what reconcile last wrote (`wrote`, sealed) is another thing than `target` names: its
// identity holds ${run}, and a rollback since made it a new name (a snapshot to take again).
// What was written under the old name is not this rollback's to compare. Any other change of
// identity (a --var given otherwise) is compared, and shows as drift.
bool NamesAnother(const Resource& r, const Sealer& sealer, const nlohmann::json& wrote_json, const State& target) {
  if (wrote_json.is_null()) return false;
  auto wrote = sealer.Open(wrote_json, nullptr);
  if (!wrote) return false;
  for (const AttrSchema& a : r.schema->attrs) {
    auto written = r.attrs.find(a.name);
    const std::string* text = written == r.attrs.end() ? nullptr : std::get_if<std::string>(&written->second.value);
    if (!a.identity || !text || text->find("${run}") == std::string::npos) continue;
    auto w = wrote->attrs.find(a.name);
    auto t = target.attrs.find(a.name);
    if (w != wrote->attrs.end() && t != target.attrs.end() && !(w->second == t->second)) return true;
  }
  return false;
}

// Whether a journaled (sealed) state is `state`.
bool SameState(const Sealer& sealer, const nlohmann::json& sealed, const State& state) {
  if (sealed.is_null()) return false;
  auto opened = sealer.Open(sealed, nullptr);
  return opened && opened->exists == state.exists && opened->attrs == state.attrs &&
         opened->private_data == state.private_data;
}

}  // namespace

// Stages go back in reverse, as apply ran them one after another: a one-shot step's revert
// waits for the steps that undo later stages, and for the reverts of what follows it however
// far (through steps that stay: a → b → c reverts c, then a) — never where an edge of the
// graph says the other way round. `latest` is the stage each resource goes back from.
static void ReverseStages(const Spec& spec, const std::vector<std::size_t>& once_reverts,
                          const std::vector<std::size_t>& latest, std::vector<Step>* steps) {
  const std::size_t n = spec.resources.size();
  std::vector<std::vector<std::size_t>> dependents(n);
  for (std::size_t i = 0; i < n; ++i)
    for (const Dependency& d : spec.resources[i].deps) dependents[d.on].push_back(i);
  auto reach = [&](std::size_t from, bool down) {  // down: dependents; else what it depends on
    std::vector<bool> seen(n, false);
    std::vector<std::size_t> todo = {from};
    while (!todo.empty()) {
      std::size_t at = todo.back();
      todo.pop_back();
      auto visit = [&](std::size_t next) {
        if (!seen[next]) seen[next] = true, todo.push_back(next);
      };
      if (down)
        for (std::size_t d : dependents[at]) visit(d);
      else
        for (const Dependency& d : spec.resources[at].deps) visit(d.on);
    }
    return seen;
  };
  std::set<std::size_t> reverting(once_reverts.begin(), once_reverts.end());
  for (Step& a : *steps) {
    if (a.action != Action::kDelete || !reverting.count(a.resource)) continue;
    const Resource& ra = spec.resources[a.resource];
    std::vector<bool> below = reach(a.resource, true), above = reach(a.resource, false);
    for (const Step& c : *steps) {
      const Resource& rc = spec.resources[c.resource];
      if (c.resource == a.resource || rc.IsHandler() || above[c.resource]) continue;
      std::size_t from = reverting.count(c.resource) ? rc.stage : latest[c.resource];
      bool first = below[c.resource] || from > ra.stage;
      if (first && std::find(a.after.begin(), a.after.end(), c.resource) == a.after.end())
        a.after.push_back(c.resource);
    }
  }
}

Plan RollbackPlan::Shown() const {
  Plan shown = plan;
  for (const Step& st : stays) shown.stages.front().steps.push_back(st);
  return shown;
}

Result<RollbackPlan> PlanRollback(const Session& session, std::size_t to) {
  const Spec& spec = session.spec();
  const History& history = session.history();
  const std::string& to_name = spec.stages[to].name;
  RollbackPlan out;
  out.to = to;
  if (Status read = ReadComputed(spec); !read) return Error{read.message()};
  // What changed after S, and what each should go back to.
  const std::size_t n = spec.resources.size();
  std::vector<std::optional<State>> target(n);
  std::vector<std::size_t> once_reverts;
  std::vector<std::set<std::string>> unknown(n);
  std::vector<std::size_t> latest(n, 0);  // the latest stage each goes back from
  for (const auto& [address, h] : history.resources) {
    const Resource* r = spec.Find(address);
    bool after_s = h.rolled_back;
    for (const std::string& stage : h.applied_stages) {
      auto index = spec.FindStage(stage);
      if (!index || *index > to) after_s = true;
    }
    if (!after_s) continue;
    if (!r) {
      out.notes.push_back(address + " was changed after stage '" + to_name +
                          "' but is no longer in the spec; it is left as it is");
      continue;
    }
    if (r->IsHandler()) continue;  // run again below when what notifies it goes back
    std::size_t i = spec.Index(address).value();
    for (const std::string& stage : h.applied_stages)
      if (auto index = spec.FindStage(stage); index && *index > to) latest[i] = std::max(latest[i], *index);
    // A one-shot step is an event, not a state: one of a stage kept stays done; one of a
    // stage undone is reverted if it happened (and was not reverted since).
    if (r->IsOnce()) {
      if (r->stage > to && h.last_op == "apply") once_reverts.push_back(i);
      continue;
    }
    // The world as it was at the end of S: the prior of the latest change that crossed from
    // S (or earlier, or a rollback) into a later stage. Where the spec says what S wants,
    // that wins; the rest (attributes only later stages set) come back as they were.
    const StepHistory* crossing = nullptr;
    bool at_or_before_s = true;
    for (const StepHistory& st : h.steps) {
      auto index = spec.FindStage(st.stage);
      // A rollback step's stage is where it went back to: it ends a crossing only if that
      // is S or earlier.
      bool later = !index || *index > to;
      if (later && at_or_before_s && st.op == "apply") crossing = &st;
      at_or_before_s = !later;
    }
    if (!crossing && r->stage > to) continue;  // only rollbacks touched it: already back
    Result<State> want = crossing ? session.sealer.Open(crossing->prior, &unknown[i]) : Result<State>(State{});
    if (want && r->stage <= to) {
      // Never older than what the spec wants at S: of the prior, only attributes the spec
      // could have set and leaves unsaid at S come back. What a probe reports beyond the
      // schema (a sync's "objects missing") described the world before S's work and would
      // undo it.
      auto desired = Desired(spec, *r, to, true);
      if (!desired) {
        want = desired.error();
      } else {
        want->exists = desired->exists;
        want->private_data.clear();  // the provider's own record of that older world, as above
        for (auto it = want->attrs.begin(); it != want->attrs.end();)
          it = r->schema->Find(it->first) ? std::next(it) : want->attrs.erase(it);
        for (auto it = unknown[i].begin(); it != unknown[i].end();)
          it = r->schema->Find(*it) ? std::next(it) : unknown[i].erase(it);
        for (auto& [attr, v] : desired->attrs) {
          want->attrs[attr] = v;
          unknown[i].erase(attr);
        }
        want->unknown = desired->unknown;
      }
    }
    // Identity and settings name the thing and say how to handle it, whatever it was before.
    auto identity = Desired(spec, *r, r->stage, false);
    if (want && identity)
      for (const AttrSchema& a : r->schema->attrs)
        if ((a.identity || a.setting) && identity->attrs.count(a.name))
          want->attrs[a.name] = identity->attrs.at(a.name);
    if (!want) return Error{address + ": " + want.error().message};
    target[i] = std::move(*want);
  }
  // Probed for what reconcile last wrote as well as for the target, so the drift check below
  // sees those attributes even where the target drops them (a bucket going away still has its
  // settings read; providers read only what they are asked for).
  std::vector<std::optional<State>> probe_for = target;
  for (std::size_t i = 0; i < n; ++i) {
    if (!probe_for[i]) continue;
    const nlohmann::json& wrote_json = history.resources.at(spec.resources[i].address).last_state;
    if (wrote_json.is_null()) continue;
    auto wrote = session.sealer.Open(wrote_json, nullptr);
    if (!wrote) continue;  // Drift says why
    for (auto& [attr, v] : wrote->attrs) probe_for[i]->attrs.emplace(attr, v);
  }
  auto written = WriteOnlyValues(spec, history, session.sealer);
  auto probed = ProbeResources(spec, &probe_for, &written);
  if (!probed) return probed.error();

  // Someone else's change since reconcile wrote a resource stops the rollback (unless --force).
  out.plan.spec_sha256 = spec.sha256;
  StagePlan sp;
  sp.stage = to;
  for (std::size_t i = 0; i < n; ++i) {
    if (!target[i]) continue;
    const Resource& r = spec.resources[i];
    const ResourceHistory& h = history.resources.at(r.address);
    std::string differs = NamesAnother(r, session.sealer, h.last_state, *target[i])
                              ? std::string()
                              : Drift(spec, r, session.sealer, h.last_state, (*probed)[i]);
    if (!differs.empty()) {
      // A step that was cut off (a crash) may or may not have written: either is no drift.
      auto pending = std::find_if(history.pending.begin(), history.pending.end(),
                                  [&](const PendingStep& p) { return p.address == r.address; });
      if (pending == history.pending.end() || !Drift(spec, r, session.sealer, pending->desired, (*probed)[i]).empty())
        out.drift += differs;
    }
    Diff d = CompareResource(r, (*probed)[i], *target[i]);
    if (d.action == Action::kNone) continue;
    // A rollback already took it to this very target and nobody touched it since: what still
    // differs and cannot be undone (objects with no earlier version) was said the first time.
    if (d.irreversible && differs.empty() && h.last_op == "rollback" &&
        SameState(session.sealer, h.last_desired, *target[i]))
      continue;
    Step step = StepFrom(spec, i, to, std::move(d), (*probed)[i], *target[i]);
    if (!unknown[i].empty() && step.action != Action::kDelete) {
      step.irreversible = true;
      step.irreversible_reason = "its earlier '" + *unknown[i].begin() +
                                 "' was sensitive and not kept (no [state] key then), so it cannot be restored";
    }
    step.reason = r.stage <= to ? "back to what the spec wants at stage '" + to_name + "'"
                                : "back to what it was before reconcile first changed it";
    sp.steps.push_back(std::move(step));
  }
  // One-shot steps go back by their `revert`; without one the plan says up front that they stay.
  // A one-shot step an apply was cut off in (nothing told whether it finished) may have
  // partly happened: it goes back too, or is said to stay, and so its intent is closed.
  std::set<std::size_t> cut_off;
  for (const PendingStep& p : history.pending) {
    const Resource* r = spec.Find(p.address);
    if (!r || p.op != "apply" || !r->IsOnce() || r->IsHandler() || r->stage <= to) continue;
    std::size_t i = spec.Index(p.address).value();
    if (std::find(once_reverts.begin(), once_reverts.end(), i) == once_reverts.end()) once_reverts.push_back(i);
    cut_off.insert(i);
  }
  for (std::size_t i : once_reverts) {
    const Resource& r = spec.resources[i];
    auto desired = Desired(spec, r, r.stage, true);
    if (!desired) return Error{r.address + ": " + desired.error().message};
    Step step;
    step.resource = i;
    step.stage = to;
    step.prior = *desired;
    step.desired = *desired;
    step.desired.exists = false;
    const std::string& undo = r.schema->undo_attr;
    if (undo.empty() || !r.attrs.count(undo)) {
      // Journaled as it is: what is not known now is left out, never written as a placeholder.
      for (const std::string& a : step.prior.unknown) step.prior.attrs.erase(a);
      step.prior.unknown.clear();
      step.action = Action::kNone;
      step.reason = "stays: it has no " + (undo.empty() ? std::string("way back") : "`" + undo + "`") +
                    (cut_off.count(i) ? " (it was cut off while it ran in stage '" + spec.stages[r.stage].name +
                                            "' and may have partly happened: look on the host)"
                                      : " (it ran in stage '" + spec.stages[r.stage].name + "')");
      out.stays.push_back(std::move(step));
      continue;
    }
    step.action = Action::kDelete;
    step.reason = (cut_off.count(i) ? "it was cut off while it ran in stage '" + spec.stages[r.stage].name +
                                          "' (it may have partly happened), which is undone: its `" + undo + "` runs"
                                    : "it ran in stage '" + spec.stages[r.stage].name + "', which is undone: its `" +
                                          undo + "` runs");
    // What it will run, reviewed like an apply's command.
    AttrChange what;
    what.name = undo;
    what.sensitive = IsSensitive(spec, r, undo);
    what.set_summary(what.sensitive ? "(sensitive)" : FormatCommand(desired->attrs.at(undo)));
    what.known_after_apply = desired->Unknown(undo);
    step.mutable_changes().push_back(std::move(what));
    if (cut_off.count(i)) {
      AttrChange note;
      note.name = "cut off";
      note.set_summary("while it ran in stage '" + spec.stages[r.stage].name + "': it may have partly happened");
      step.mutable_changes().insert(step.mutable_changes().begin(), std::move(note));
    }
    sp.steps.push_back(std::move(step));
  }
  // Removals go first and dependents before what they depend on; then re-creations and
  // updates, dependencies before dependents — the order apply would have used. A removal
  // also waits for its dependents' updates.
  const auto& rank = session.graph.rank();
  auto removal = [](const Step& s) { return s.action == Action::kDelete; };
  std::sort(sp.steps.begin(), sp.steps.end(), [&](const Step& a, const Step& b) {
    if (removal(a) != removal(b)) return removal(a);
    return removal(a) ? rank[a.resource] > rank[b.resource] : rank[a.resource] < rank[b.resource];
  });
  std::vector<const Step*> step_for(n, nullptr);
  for (const Step& s : sp.steps) step_for[s.resource] = &s;
  // A step waits only on its neighbours in the graph: asked of every resource, a rollback of
  // 20,000 steps spent 60% of its time here (quadratic).
  std::vector<std::vector<std::size_t>> dependents(n);
  for (std::size_t j = 0; j < n; ++j)
    for (const Dependency& d : spec.resources[j].deps) dependents[d.on].push_back(j);
  std::vector<std::size_t> near;
  for (Step& s : sp.steps) {
    near.assign(dependents[s.resource].begin(), dependents[s.resource].end());
    for (const Dependency& d : spec.resources[s.resource].deps) near.push_back(d.on);
    std::sort(near.begin(), near.end());  // in the order every resource was asked in
    near.erase(std::unique(near.begin(), near.end()), near.end());
    for (std::size_t j : near) {
      if (!step_for[j] || j == s.resource) continue;
      const auto& deps = spec.resources[j].deps;
      bool j_depends_on_s =
          std::any_of(deps.begin(), deps.end(), [&](const Dependency& d) { return d.on == s.resource; });
      const auto& mine = spec.resources[s.resource].deps;
      bool s_depends_on_j = std::any_of(mine.begin(), mine.end(), [&](const Dependency& d) { return d.on == j; });
      // A removal waits for every dependent's step, whatever it is: undoing a sync into a
      // bucket needs the bucket until its copies are gone. Anything else waits for what it
      // depends on (re-created first), and for its dependents' removals (a command's revert
      // before the file it ran after is put back): two steps on one edge never run at once.
      bool wait = removal(s) ? j_depends_on_s
                             : (s_depends_on_j && !removal(*step_for[j])) || (j_depends_on_s && removal(*step_for[j]));
      if (wait) s.after.push_back(j);
    }
  }
  ReverseStages(spec, once_reverts, latest, &sp.steps);
  // A handler runs once after the steps of what notifies it: a vhost put back reloads nginx.
  std::vector<bool> stepping(n, false);
  for (const Step& s : sp.steps) stepping[s.resource] = true;
  // Notified and not run since (a rollback cut off between the two): it runs now.
  const std::vector<bool> due = HandlersDue(spec, history);
  for (std::size_t h = 0; h < n; ++h) {
    const Resource& r = spec.resources[h];
    if (!r.IsHandler()) continue;
    std::vector<std::size_t> by;
    for (std::size_t from : r.notified_by)
      if (stepping[from]) by.push_back(from);
    if (by.empty() && !due[h]) continue;
    auto desired = Desired(spec, r, std::max(r.stage, to), true);
    if (!desired) return Error{r.address + ": " + desired.error().message};
    sp.steps.push_back(HandlerStep(spec, h, to, by, std::move(*desired)));
    if (!by.empty())
      sp.steps.back().reason =
          "notified by what goes back: it runs once, after " + std::string(by.size() == 1 ? "it" : "them");
  }
  HandlersLast(spec, &sp.steps);
  out.plan.stages.push_back(sp);

  // The stages after `to` that are complete, and those a rollback cut off (or failed) has
  // un-completed without finishing: this one undoes them too, so that it journals them again
  // (a run cut off in turn still knows) and its "Next:" names them.
  const bool unfinished = history.RollbackUnfinished();
  for (std::size_t s = to + 1; s < spec.stages.size(); ++s) {
    const std::string& name = spec.stages[s].name;
    if (history.complete.count(name) ||
        (unfinished && std::count(history.last_begin->undo.begin(), history.last_begin->undo.end(), name)))
      out.undone.push_back(name);
  }
  return out;
}

RunEnd RunRollbackPlan(Session& session, const RollbackPlan& rollback, Executor& executor, Progress& progress) {
  const Spec& spec = session.spec();
  const std::string& to_name = spec.stages[rollback.to].name;
  const StagePlan& sp = rollback.plan.stages.front();
  // The stages it undoes are un-completed before its first step (`undo`): cut off halfway,
  // the journal must not call them complete while their work is partly gone, or the next
  // apply would journal their redone steps under a later stage.
  JournalRecord begin = journal::Encode(journal::Begin{"rollback", spec.sha256, LockInfo::Mine("rollback").user, "",
                                                       to_name, rollback.undone, spec.options.env});
  if (Status s = session.journal->Append(&begin); !s) return {RunEnd::kFailed, s.message()};
  progress.StageStarted("rollback to " + to_name, sp.steps.size());
  auto results = executor.RunSteps(sp.steps, to_name);
  bool interrupted = g_interrupts.load() > 0;
  progress.StageFinished("rollback to " + to_name, OutcomeOf(results, interrupted));
  std::string failures = Failures(spec, sp.steps, results);
  if (!failures.empty()) {
    JournalRecord end = journal::Encode(journal::End{"rollback", interrupted ? "interrupted" : "failed"});
    (void)session.journal->Append(&end);  // the failure below is what to say
    return {interrupted ? RunEnd::kInterrupted : RunEnd::kFailed,
            "the rollback did not finish:" + failures +
                (interrupted ? "\n  run the same rollback again to continue"
                             // Run again as it is, a step that failed fails the same way.
                             : "\n  fix what stopped it (above), then run the same rollback again to continue")};
  }
  // What stays is journaled too: the stage is undone, so an apply that passes it again runs
  // the step again (an event of that stage), and this rollback run again has nothing to say.
  std::vector<JournalRecord> stayed;
  for (const Step& st : rollback.stays) {
    const Resource& r = spec.resources[st.resource];
    auto sensitive = [&](const std::string& a) { return IsSensitive(spec, r, a); };
    stayed.push_back(journal::Encode(
        journal::Done{"rollback", to_name, r.address, session.sealer.Seal(st.prior, sensitive), std::nullopt, true}));
  }
  if (Status s = session.journal->AppendAll(&stayed); !s) return {RunEnd::kFailed, s.message()};
  JournalRecord complete = journal::Encode(journal::RollbackComplete{to_name, rollback.undone});
  JournalRecord end = journal::Encode(journal::End{"rollback", "ok"});
  if (Status s = session.journal->Append(&complete); !s || !(s = session.journal->Append(&end)))
    return {RunEnd::kFailed, s.message()};
  return {};
}

}  // namespace reconcile
