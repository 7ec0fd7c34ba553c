// A cutover on the in-memory world with a real journal file, for the engine's tests of
// apply and rollback: plans as `reconcile apply` does, applies and rolls back through the
// stage driver and the rollback planner.
#pragma once

#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <optional>

#include "engine/run/apply_stages.h"
#include "engine/run/rollback_plan.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_world.h"

namespace reconcile {

// Progress that keeps its notes, and runs `on_note` for each (a test's hand in the world
// between stages).
struct Notes : Progress {
  std::vector<std::string> lines;
  std::function<void(const std::string&)> on_note;
  void StageStarted(const std::string&, std::size_t) override {}
  void StepStarted(const std::string&, Action) override {}
  void StepFinished(const std::string&, Action, const std::string&, std::chrono::milliseconds) override {}
  void CheckWaiting(const std::string&, const std::string&, std::chrono::milliseconds,
                    std::chrono::milliseconds) override {}
  void Note(const std::string& line) override {
    lines.push_back(line);
    if (on_note) on_note(line);
  }
  bool Said(const std::string& part) const {
    return std::any_of(lines.begin(), lines.end(),
                       [&](const std::string& l) { return l.find(part) != std::string::npos; });
  }
};

struct Cutover {
  TempDir tmp;
  TestWorld w;
  Session session;
  Notes notes;
  std::string asked;  // what the confirm hook answers
  ApplyHooks hooks{notes, [this](const StageSpec&) { return asked; }};

  // `key`: the journal's [state] key, which seals sensitive values (none: they are not kept).
  explicit Cutover(const std::string& body, std::optional<std::string> key = std::nullopt)
      : session{.sealer = Sealer(key)} {
    session.load = w.Load(std::string(kHeader) + body);
    REQUIRE_MESSAGE(session.load.spec, TestWorld::Errors(session.load));
    REQUIRE(session.graph.Build(*session.load.spec, &session.load.diags));
    session.journal = OpenFileJournal((tmp.path / "journal").string());
    REQUIRE(RefreshHistory(&session));
  }

  const Spec& spec() const { return session.spec(); }

  // Plans now, as `reconcile apply` does, and applies through `through` (the last stage when
  // empty). `saved` stands for a saved plan's file name; irreversible steps stop it unless
  // allowed (--allow-irreversible).
  RunEnd Apply(const std::string& through = "", const std::string& saved = "", bool allow_irreversible = false) {
    REQUIRE(RefreshHistory(&session));
    PlanOptions po = PlanOptionsFor(session);
    auto plan = MakePlan(spec(), session.graph, po);
    REQUIRE(plan);
    ApplyOptions o;
    o.through = through.empty() ? spec().stages.size() - 1 : *spec().FindStage(through);
    o.saved_plan = saved;
    o.allow_irreversible = allow_irreversible;
    plan->stages.erase(std::remove_if(plan->stages.begin(), plan->stages.end(),
                                      [&](const StagePlan& sp) { return sp.stage > o.through; }),
                       plan->stages.end());
    Executor ex(ExecContext{spec(), *session.journal, session.sealer, notes, "apply", 4, 4});
    // An hour ago: every stage is planned again as it begins, the first one too.
    return ApplyStages(session, *plan, po, std::chrono::steady_clock::now() - std::chrono::hours(1), o, ex, hooks);
  }

  Result<RollbackPlan> PlanBack(const std::string& to) {
    REQUIRE(RefreshHistory(&session));
    return PlanRollback(session, *spec().FindStage(to));
  }

  RunEnd RunBack(const RollbackPlan& rb) {
    Executor ex(ExecContext{spec(), *session.journal, session.sealer, notes, "rollback", 4, 4});
    return RunRollbackPlan(session, rb, ex, notes);
  }

  // The journal's kinds, with the stage or the result where a record has one.
  std::vector<std::string> Records() {
    auto records = session.journal->Read();
    REQUIRE(records);
    std::vector<std::string> out;
    for (const JournalRecord& r : *records) {
      std::string line = r.kind;
      if (r.kind == "stage_complete") line += " " + r.data.value("stage", "");
      if (r.kind == "end") line += " " + r.data.value("result", "");
      if (r.kind == "intent" || r.kind == "done") line += " " + r.data.value("address", "");
      out.push_back(line);
    }
    return out;
  }
  std::string Value(const std::string& key) {
    auto it = w.mem->world.find(key);
    if (it == w.mem->world.end()) return "(absent)";
    auto v = it->second.attrs.find("value");
    return v == it->second.attrs.end() ? "" : std::get<std::string>(v->second);
  }
};

}  // namespace reconcile
