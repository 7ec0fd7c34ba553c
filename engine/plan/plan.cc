#include "engine/plan/plan.h"

#include <sys/mman.h>

#include <algorithm>
#include <map>
#include <new>
#include <optional>
#include <set>
#include <unordered_map>

namespace reconcile {

Diff CompareResource(const Resource& r, const State& prior, const State& desired) {
  Diff d = Compare(*r.schema, prior, desired);
  if (r.provider) r.provider->Review(*r.schema, prior, desired, &d);
  return d;
}

namespace {

std::string Names(const ChangeList& changes) {
  std::string out;
  for (const AttrChange& c : changes) out += (out.empty() ? "" : ", ") + c.name;
  return out;
}

// Without a journal key, a sensitive value that a step overwrites or deletes is not kept,
// so that step cannot be undone.
void MarkLostSecrets(const Spec& spec, const Resource& r, const State& prior, Step* step) {
  if (step->action != Action::kUpdate && step->action != Action::kDelete) return;
  ChangeList changes = step->changes();
  for (const auto& [name, v] : prior.attrs) {
    if (IsNull(v) || !IsSensitive(spec, r, name)) continue;
    bool lost = step->action == Action::kDelete ||
                std::any_of(changes.begin(), changes.end(), [&n = name](const AttrChange& c) { return c.name == n; });
    if (!lost) continue;
    step->irreversible = true;
    step->irreversible_reason = "the current '" + name +
                                "' is sensitive and would not be kept; add key = \"env:NAME\" "
                                "under [state] to seal it in the journal";
    return;
  }
}

// Blocks mapped and unmapped whole. Heap memory freed stays resident, so blocks from the heap
// and the vector they move into were both held at the plan's peak; unmapped, a block's pages
// go back as soon as its steps have moved.
template <typename T>
struct MappedAllocator {
  using value_type = T;
  MappedAllocator() = default;
  template <typename U>
  MappedAllocator(const MappedAllocator<U>&) {}
  T* allocate(std::size_t n) {
    void* p = ::mmap(nullptr, n * sizeof(T), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) { ::munmap(p, n * sizeof(T)); }
  bool operator==(const MappedAllocator&) const { return true; }
};

// A stage's steps as they are found, in blocks, then moved into one vector of the size
// needed: a vector reserved for every step the stage could have had, then shrunk, held two or
// three times the steps it kept at the plan's peak.
class StepBlocks {
 public:
  void push_back(Step step) {
    if (blocks_.empty() || blocks_.back().size() == kBlock) blocks_.emplace_back().reserve(kBlock);
    blocks_.back().push_back(std::move(step));
    ++size_;
  }
  Step& back() { return blocks_.back().back(); }
  // Each block is let go as soon as it is moved.
  void MoveInto(std::vector<Step>* out) {
    out->reserve(out->size() + size_);
    for (auto& b : blocks_) {
      for (Step& step : b) out->push_back(std::move(step));
      std::vector<Step, MappedAllocator<Step>>().swap(b);
    }
    blocks_.clear();
    size_ = 0;
  }

 private:
  static constexpr std::size_t kBlock = 4096;
  std::vector<std::vector<Step, MappedAllocator<Step>>> blocks_;
  std::size_t size_ = 0;
};

}  // namespace

const char* ActionName(Action a) {
  switch (a) {
    case Action::kNone:
      return "none";
    case Action::kCreate:
      return "create";
    case Action::kUpdate:
      return "update";
    case Action::kDelete:
      return "delete";
    case Action::kCheck:
      return "check";
  }
  return "none";
}

PlanCounts Plan::Counts(std::optional<std::size_t> only_stage) const {
  PlanCounts c;
  for (const StagePlan& s : stages) {
    if (only_stage && *only_stage != s.stage) continue;
    for (const Step& step : s.steps) {
      switch (step.action) {
        case Action::kCreate:
          ++c.create;
          break;
        case Action::kUpdate:
          ++c.update;
          break;
        case Action::kDelete:
          ++c.remove;
          break;
        case Action::kCheck:
          ++c.check;
          break;
        case Action::kNone:
          break;
      }
      if (step.irreversible) ++c.irreversible;
    }
  }
  return c;
}

std::vector<std::string> Guards(const Spec& spec, const std::vector<Step>& steps) {
  std::map<std::string, ProviderConfig> configs;
  std::map<Provider*, std::vector<Change>> by_provider;
  std::vector<std::string> out;
  for (const Step& s : steps) {
    if (s.action == Action::kCheck) continue;
    const Resource& r = spec.resources[s.resource];
    if (!r.provider || !r.provider->HasGuard()) continue;
    auto t = TargetFor(spec, r, s.desired, &configs);
    if (!t) continue;  // the steps themselves will say so
    by_provider[r.provider].push_back(Change{s.action, std::move(*t), s.prior, {}});
  }
  for (auto& [provider, changes] : by_provider)
    for (std::string& g : provider->Guard(changes)) out.push_back(std::move(g));
  return out;
}

std::vector<AttrChange> Step::ChangesFromDesired() const {
  std::vector<AttrChange> made;
  made.reserve(desired.attrs.size());
  for (const auto& [name, v] : desired.attrs) made.push_back({name, std::monostate{}, v});
  return made;
}

ChangeList Step::changes() const {
  return changes_in_desired_ ? ChangeList(ChangesFromDesired()) : ChangeList(&changes_);
}

std::vector<AttrChange>& Step::mutable_changes() {
  if (changes_in_desired_) {
    changes_ = ChangesFromDesired();
    changes_in_desired_ = false;
  }
  return changes_;
}

void Step::KeepChangesInDesired() {
  if (action != Action::kCreate || changes_in_desired_ || !desired.unknown.empty() ||
      changes_.size() != desired.attrs.size())
    return;
  auto want = desired.attrs.begin();
  for (const AttrChange& c : changes_) {
    if (c.name != want->first || !IsNull(c.old_value) || c.new_value != want->second || c.sensitive ||
        c.known_after_apply || c.note)
      return;
    ++want;
  }
  std::vector<AttrChange>().swap(changes_);
  changes_in_desired_ = true;
}

Step StepFrom(const Spec& spec, std::size_t resource, std::size_t stage, Diff diff, State prior, State desired) {
  Step step;
  step.resource = resource;
  step.stage = stage;
  step.action = diff.action;
  step.mutable_changes() = std::move(diff.changes);
  step.irreversible = diff.irreversible;
  step.irreversible_reason = std::move(diff.irreversible_reason);
  const Resource& r = spec.resources[resource];
  for (AttrChange& c : step.mutable_changes()) {
    c.sensitive = IsSensitive(spec, r, c.name);
    c.known_after_apply = desired.Unknown(c.name);
    // What the world never tells and reconcile never wrote (nor the previous stage): nothing
    // knows the value this change overwrites.
    const AttrSchema* a = r.schema->Find(c.name);
    if (a && a->write_only && step.action == Action::kUpdate && IsNull(c.old_value) && !step.irreversible) {
      step.irreversible = true;
      step.irreversible_reason = "its current '" + c.name +
                                 "' cannot be read back and reconcile has not written it, so it could not be put back";
    }
  }
  step.prior = std::move(prior);
  step.desired = std::move(desired);
  return step;
}

void HandlersLast(const Spec& spec, std::vector<Step>* steps) {
  auto is_check = [&](const Step& s) { return s.action == Action::kCheck; };
  auto is_handler = [&](const Step& s) { return spec.resources[s.resource].IsHandler(); };
  if (std::none_of(steps->begin(), steps->end(), is_handler)) return;
  // Which changes wait on a check, directly or not: a handler that waited for them would wait
  // for the check, which waits for the handler (a stage's checks follow its changes).
  std::map<std::size_t, std::size_t> step_of;
  for (std::size_t i = 0; i < steps->size(); ++i) step_of[(*steps)[i].resource] = i;
  // One walk with a stack, not recursion (chains may be long). -1 unknown, 2 being looked
  // at (a cycle reads as no), 0 no, 1 yes.
  std::vector<int> behind(steps->size(), -1);
  for (std::size_t start = 0; start < steps->size(); ++start) {
    if (behind[start] != -1) continue;
    std::vector<std::pair<std::size_t, std::size_t>> stack = {{start, 0}};  // step, next `after` to look at
    behind[start] = 2;
    while (!stack.empty()) {
      std::size_t at = stack.back().first;
      std::size_t& next = stack.back().second;
      const Step& s = (*steps)[at];
      if (is_check(s)) {
        behind[at] = 1;
        stack.pop_back();
        continue;
      }
      std::optional<std::size_t> child;
      while (next < s.after.size() && behind[at] != 1) {
        auto it = step_of.find(s.after[next]);
        if (it == step_of.end() || behind[it->second] == 0 || behind[it->second] == 2) {
          ++next;
        } else if (behind[it->second] == 1) {
          behind[at] = 1;
        } else {
          child = it->second;
          break;
        }
      }
      if (child) {
        behind[*child] = 2;
        stack.push_back({*child, 0});  // `next` is not used past here
        continue;
      }
      if (behind[at] != 1) behind[at] = 0;
      stack.pop_back();
    }
  }
  for (Step& h : *steps) {
    if (!is_handler(h)) continue;
    for (std::size_t i = 0; i < steps->size(); ++i) {
      const Step& s = (*steps)[i];
      if (is_check(s) || is_handler(s) || behind[i] == 1) continue;
      if (std::find(h.after.begin(), h.after.end(), s.resource) == h.after.end()) h.after.push_back(s.resource);
    }
  }
}

Step HandlerStep(const Spec& spec, std::size_t handler, std::size_t stage, const std::vector<std::size_t>& by,
                 State desired) {
  const Resource& r = spec.resources[handler];
  // What it runs is shown as for any step that runs; what notified it comes first.
  Diff diff = CompareResource(r, State{}, desired);
  diff.action = Action::kCreate;
  Step step = StepFrom(spec, handler, stage, std::move(diff), State{}, std::move(desired));
  step.after = by;
  std::string names;
  for (std::size_t from : by) names += (names.empty() ? "" : ", ") + spec.resources[from].address;
  AttrChange c;
  c.name = "notified";
  c.set_summary(by.empty() ? "by a change of an earlier run; it has not run since" : "by " + names);
  step.mutable_changes().insert(step.mutable_changes().begin(), std::move(c));
  step.reason = by.empty() ? r.address + " was notified by a change of an earlier run and has not run since"
                           : "notified by " + names + ", which " + (by.size() == 1 ? "changes" : "change") +
                                 " here: it runs once, after " + (by.size() == 1 ? "it" : "them");
  return step;
}

std::string StepReason(const Spec& spec, const Step& step) {
  if (!step.reason.empty()) return step.reason;
  const Resource& r = spec.resources[step.resource];
  // Where the spec says it, not where it is planned (a stage after those applied): its own
  // stage, or the last overlay up to the step's that says whether it should exist.
  std::size_t since = std::min(r.stage, step.stage);
  for (const Overlay& o : r.overlays)
    if (o.stage > since && o.stage <= step.stage && o.attrs.count("ensure")) since = o.stage;
  const std::string& wanted = spec.stages[since].name;
  switch (step.action) {
    case Action::kCreate:
      // A one-shot step is an event: it has not happened (or not to its end), rather than
      // does not exist.
      if (r.IsOnce())
        return r.address + " runs once, in stage '" + wanted + "' (" + r.loc.ToString() +
               "), and the journal has no finished run of it";
      return r.address + " does not exist; the spec wants it from stage '" + wanted + "' (" + r.loc.ToString() + ")";
    case Action::kDelete:
      return r.address + " exists; the spec wants it absent at stage '" + spec.stages[step.stage].name + "'";
    default:
      return "the world differs from the spec (" + r.loc.ToString() + ") in " + Names(step.changes());
  }
}

Result<Plan> MakePlan(const Spec& spec, const DependencyGraph& graph, const PlanOptions& options) {
  Plan plan;
  plan.spec_sha256 = spec.sha256;
  const std::size_t n = spec.resources.size();
  const std::size_t last = std::min(options.last_stage.value_or(spec.stages.size() - 1), spec.stages.size() - 1);

  if (Status read = ReadComputed(spec); !read) return Error{read.message()};

  // Which resources are planned, and from which stage.
  std::vector<bool> wanted(n, false);
  std::vector<std::size_t> first_stage(n, 0);
  std::size_t last_first = options.first_stage;
  for (std::size_t i = 0; i < n; ++i) {
    const Resource& r = spec.resources[i];
    if (r.is_check() || r.IsHandler()) continue;  // a handler runs only when notified
    first_stage[i] = std::max(r.stage, options.first_stage);
    if (first_stage[i] > last) continue;
    // A step that happens once (a command run = "once", a snapshot) belongs to its own stage:
    // a later stage neither re-checks nor re-runs it, however the world has moved since.
    if (r.IsOnce() && (r.stage < options.first_stage || (i < options.once_done.size() && options.once_done[i])))
      continue;
    wanted[i] = true;
    last_first = std::max(last_first, first_stage[i]);
  }
  // What a resource wants changes at a later stage only with an overlay there, or with a
  // value it refers to; everything else keeps what it wanted (no state worked out again).
  std::vector<bool> moves(n, false);
  // What a later stage may work out again, or a follower reads as it was planned: the only
  // desired states kept once their first step has it.
  std::vector<bool> may_move(n, false);
  for (std::size_t i = 0; i < n; ++i) {
    const Resource& r = spec.resources[i];
    may_move[i] =
        r.has_references || r.schema->probe_when_run ||
        std::any_of(r.overlays.begin(), r.overlays.end(), [&](const Overlay& o) { return o.stage > first_stage[i]; });
  }

  // What each resource should be at its first stage, what the world holds, and the step
  // between them, a round of resources at a time: the states of one that needs none (most,
  // in a large spec) are let go before the next round is read, where a million of each,
  // held until every one was read, were the plan's peak and left its memory in holes.
  std::vector<std::optional<State>> current(n);
  std::vector<StepBlocks> first_steps(last >= options.first_stage ? last + 1 - options.first_stage : 0);
  std::vector<bool> has_first_step(n, false);
  std::unordered_map<std::size_t, State> follower_probed;   // a follower's world, read again when it runs
  std::vector<std::pair<std::size_t, std::string>> errors;  // by the resource that met each first
  std::set<std::string> said;
  ProbeFailures failed;
  // Dependencies first, so each reference is found in the cache rather than recomputed.
  DesiredCache cache(spec, true);
  std::vector<std::size_t> by_rank(n);
  for (std::size_t i = 0; i < n; ++i) by_rank[graph.rank()[i]] = i;
  std::vector<std::size_t> round;
  std::vector<State> probed;
  std::map<std::string, ProviderConfig> configs;
  for (std::size_t begin = 0; begin < n; begin += kProbeRound) {
    round.clear();
    for (std::size_t k = begin; k < std::min(n, begin + kProbeRound); ++k) {
      const std::size_t i = by_rank[k];
      if (!wanted[i]) continue;
      auto d = cache.At(i, first_stage[i]);
      // A cause many refer to comes back from each of them: said once.
      if (!d) {
        if (said.insert(d.error().message).second) errors.emplace_back(i, d.error().message);
      } else {
        current[i] = std::move(*d);
        round.push_back(i);
      }
    }
    // Nothing more is read once the spec is found wrong: its errors are what is said.
    if (!errors.empty()) continue;
    std::sort(round.begin(), round.end());  // read in the spec's order, as a whole spec is
    ProbeRound(spec, &current, &options.written, round, &probed, &failed, &configs);
    if (!failed.empty()) continue;  // the rest is read only to say all that cannot be
    for (std::size_t k = 0; k < round.size(); ++k) {
      const std::size_t i = round[k];
      const Resource& r = spec.resources[i];
      // Compared in place; a step then takes what nothing reads again (a million resources
      // hold one copy of each state, not three).
      Diff diff = CompareResource(r, probed[k], *current[i]);
      if (diff.action == Action::kNone) {
        // Nothing reads these again: a follower re-reads its own, and only what a later stage
        // may move is compared again.
        if (r.schema->probe_when_run) {
          follower_probed[i] = std::move(probed[k]);
        } else {
          probed[k] = State{};
          if (!may_move[i]) *current[i] = State{};
        }
        continue;
      }
      State desired = may_move[i] ? *current[i] : std::move(*current[i]);
      Step step = StepFrom(spec, i, first_stage[i], std::move(diff), std::move(probed[k]), std::move(desired));
      if (!options.keeps_secrets && !step.irreversible) MarkLostSecrets(spec, r, step.prior, &step);
      // At its first stage a step's reason follows from the step (StepReason): not written
      // out for each of a million creates.
      step.KeepChangesInDesired();
      first_steps[first_stage[i] - options.first_stage].push_back(std::move(step));
      has_first_step[i] = true;
    }
  }
  if (!errors.empty()) {
    // Met in dependency order, said in the spec's.
    std::stable_sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string said_all;
    for (const auto& [i, message] : errors) said_all += "\n  " + message;
    return Error{"cannot work out what the spec wants:" + said_all};
  }
  if (!failed.empty()) return failed.ToError();
  std::vector<State>().swap(probed);

  for (std::size_t s = options.first_stage; s <= last; ++s) {
    StagePlan stage_plan;
    stage_plan.stage = s;
    std::vector<bool> in_stage(n, false);
    StepBlocks found = std::move(first_steps[s - options.first_stage]);
    for (std::size_t i : by_rank) {
      const Resource& r = spec.resources[i];
      moves[i] = r.OverlayAt(s) != nullptr;
      for (std::size_t k = 0; !moves[i] && r.has_references && k < r.deps.size(); ++k)
        moves[i] = r.deps[k].kind == Dependency::Kind::kReference && moves[r.deps[k].on];
    }
    for (std::size_t i = 0; i < n; ++i) {
      const Resource& r = spec.resources[i];
      if (r.is_check()) {
        if (r.stage != s) continue;
        Step step;
        step.resource = i;
        step.stage = s;
        step.action = Action::kCheck;
        const std::string& variant = r.schema->variant_attr;
        auto v = variant.empty() ? r.attrs.end() : r.attrs.find(variant);
        const std::string* which = v == r.attrs.end() ? nullptr : std::get_if<std::string>(&v->second.value);
        step.reason = "a check" + (which ? " of " + variant + " '" + *which + "'" : std::string()) + " gates stage '" +
                      spec.stages[s].name + "' (" + r.loc.ToString() + ")";
        auto d = Desired(spec, r, s, false);
        if (d) step.desired = std::move(*d);
        found.push_back(std::move(step));
        in_stage[i] = true;
        continue;
      }
      if (s < first_stage[i] || !current[i]) continue;
      if (r.IsOnce() && s != first_stage[i]) continue;
      if (s == first_stage[i]) {
        in_stage[i] = has_first_step[i];  // found with what the world holds, above
        continue;
      }
      const Overlay* overlay = r.OverlayAt(s);
      if (!moves[i]) continue;
      auto d = cache.At(i, s);
      if (!d) return Error{d.error().message};
      State prior = std::move(*current[i]);
      State desired = std::move(*d);
      current[i] = desired;
      Diff diff = CompareResource(r, prior, desired);
      if (diff.action == Action::kNone) continue;
      Step step = StepFrom(spec, i, s, std::move(diff), std::move(prior), std::move(desired));
      if (!options.keeps_secrets && !step.irreversible) MarkLostSecrets(spec, r, step.prior, &step);
      if (overlay) {
        std::string what = step.action == Action::kDelete   ? std::string("retires it (ensure = \"absent\")")
                           : step.action == Action::kCreate ? std::string("brings it back (ensure = \"present\")")
                                                            : "changes " + Names(step.changes());
        step.reason = "[" + r.address + ".at." + spec.stages[s].name + "] (" + overlay->loc.ToString() + ") " + what;
      } else {
        step.reason = "a value " + r.address + " refers to changes at stage '" + spec.stages[s].name +
                      "': " + Names(step.changes());
      }
      step.KeepChangesInDesired();
      found.push_back(std::move(step));
      in_stage[i] = true;
    }
    // A resource whose state follows another's (a sync from a bucket another step fills)
    // runs whenever one it depends on changes in this stage: what it will do is known only
    // then, and the executor probes it again just before.
    for (std::size_t i : by_rank) {
      const Resource& r = spec.resources[i];
      if (!r.schema->probe_when_run || in_stage[i] || !current[i] || s < first_stage[i]) continue;
      // A one-shot step belongs to its own stage: what it follows changing later does not run
      // it again (a handler, notified, does).
      if (r.IsOnce() && s != first_stage[i]) continue;
      auto dep = std::find_if(r.deps.begin(), r.deps.end(), [&](const Dependency& d) { return in_stage[d.on]; });
      if (dep == r.deps.end()) continue;
      Step step;
      step.resource = i;
      step.stage = s;
      step.action = Action::kUpdate;
      AttrChange c;
      c.name = "follows";
      c.set_summary(spec.resources[dep->on].address + ": what changes is read when it has run");
      step.mutable_changes().push_back(std::move(c));
      step.reason = r.address + " depends on " + spec.resources[dep->on].address +
                    ", which changes in this stage; it is read again just before it runs";
      step.prior = s == first_stage[i] ? follower_probed[i] : *current[i];
      step.desired = *current[i];
      found.push_back(std::move(step));
      in_stage[i] = true;
    }
    // A handler runs once, after every step of this stage that notifies it.
    for (std::size_t h = 0; h < n; ++h) {
      const Resource& r = spec.resources[h];
      if (!r.IsHandler()) continue;
      bool due = s == options.first_stage && h < options.handler_due.size() && options.handler_due[h];
      std::vector<std::size_t> by;
      for (std::size_t from : r.notified_by)
        if (in_stage[from] && !spec.resources[from].is_check()) by.push_back(from);
      if (by.empty() && !due) continue;
      auto d = cache.At(h, std::max(r.stage, s));
      if (!d) return Error{d.error().message};
      found.push_back(HandlerStep(spec, h, s, by, std::move(*d)));
      in_stage[h] = true;
      if (by.empty())
        found.back().reason = r.address +
                              " was notified by a change of an earlier run and "
                              "has not run since";
    }
    found.MoveInto(&stage_plan.steps);
    // Checks last (they gate the stage's completion), handlers just before them, the rest in
    // dependency order.
    auto place = [&](const Step& st) {
      return st.action == Action::kCheck ? 2 : spec.resources[st.resource].IsHandler() ? 1 : 0;
    };
    std::sort(stage_plan.steps.begin(), stage_plan.steps.end(), [&](const Step& a, const Step& b) {
      if (place(a) != place(b)) return place(a) < place(b);
      return graph.rank()[a.resource] < graph.rank()[b.resource];
    });
    for (Step& step : stage_plan.steps) {
      for (const Dependency& d : spec.resources[step.resource].deps)
        if (in_stage[d.on] && std::find(step.after.begin(), step.after.end(), d.on) == step.after.end())
          step.after.push_back(d.on);
    }
    HandlersLast(spec, &stage_plan.steps);
    stage_plan.guards = Guards(spec, stage_plan.steps);
    plan.stages.push_back(std::move(stage_plan));
    // What was probed is read only at a resource's first stage: past the last of them, a
    // million states are let go before the stages that remain are planned.
    if (s == last_first) std::unordered_map<std::size_t, State>().swap(follower_probed);
  }
  return plan;
}

}  // namespace reconcile
