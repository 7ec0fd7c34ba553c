// The engine's stage driver and rollback planner on the in-memory world with a real journal
// file: each stage planned from the world as it begins, held to the reviewed plan, stopped
// where it must with the journal saying so; and a rollback planned, run and found done.
#include <doctest/doctest.h>

#include <filesystem>

#include "engine/run/apply_stages.h"
#include "engine/run/rollback_plan.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_world.h"

using namespace reconcile;

namespace {

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

  explicit Cutover(const std::string& body) {
    session.load = w.Load(std::string(kHeader) + body);
    REQUIRE_MESSAGE(session.load.spec, TestWorld::Errors(session.load));
    REQUIRE(session.graph.Build(*session.load.spec, &session.load.diags));
    session.journal = OpenFileJournal((tmp.path / "journal").string());
    REQUIRE(RefreshHistory(&session));
  }

  const Spec& spec() const { return session.spec(); }

  // Plans now, as `reconcile apply` does, and applies through `through` (the last stage when
  // empty). `saved` stands for a saved plan's file name.
  RunEnd Apply(const std::string& through = "", const std::string& saved = "") {
    REQUIRE(RefreshHistory(&session));
    PlanOptions po = PlanOptionsFor(session);
    auto plan = MakePlan(spec(), session.graph, po);
    REQUIRE(plan);
    ApplyOptions o;
    o.through = through.empty() ? spec().stages.size() - 1 : *spec().FindStage(through);
    o.saved_plan = saved;
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

const char* kTwoStages = R"(
[mem_item.a]
key = "a"
[mem_item.b]
key = "b"
value = "wanted"
stage = "two"
)";

}  // namespace

TEST_CASE("a stage is planned from the world as it begins: what an earlier stage undid is put right") {
  Cutover c(kTwoStages);
  c.w.mem->world["b"] = State{true, {{"key", std::string("b")}, {"value", std::string("wanted")}}};
  // Stage two has nothing to do when the run is planned; stage one's end takes b away.
  c.notes.on_note = [&](const std::string& line) {
    if (line == "stage one complete") c.w.mem->world.erase("b");
  };
  RunEnd end = c.Apply();
  CHECK(end.kind == RunEnd::kOk);
  CHECK(c.Value("b") == "wanted");
  CHECK(
      c.notes.Said("stage two planned again from the world as it begins; against the reviewed plan:\n  new  + "
                   "mem_item.b"));
  CHECK(c.Records().back() == "end ok");
}

TEST_CASE("with a saved plan, a stage that now has an unreviewed step stops, and the journal says so") {
  Cutover c(kTwoStages);
  c.w.mem->world["b"] = State{true, {{"key", std::string("b")}, {"value", std::string("wanted")}}};
  c.notes.on_note = [&](const std::string& line) {
    if (line == "stage one complete") c.w.mem->world.erase("b");
  };
  RunEnd end = c.Apply("", "cutover.plan");
  CHECK(end.kind == RunEnd::kStopped);
  CHECK(end.ExitCode() == 1);
  CHECK(end.error.find("stage 'two' now has steps the saved plan cutover.plan did not:\n  + mem_item.b") == 0);
  CHECK(c.Value("b") == "(absent)");
  auto records = c.Records();
  CHECK(std::count(records.begin(), records.end(), "stage_complete one") == 1);
  CHECK(std::count(records.begin(), records.end(), "stage_complete two") == 0);
  CHECK(records.back() == "end stopped");
}

TEST_CASE("a stage that asks to be confirmed and is not starts nothing") {
  Cutover c(std::string(kTwoStages) + "\n[stage.two]\nconfirm = \"the old site goes read-only\"\n");
  c.asked = "not confirmed";
  RunEnd end = c.Apply();
  CHECK(end.kind == RunEnd::kStopped);
  CHECK(end.error ==
        "stage 'two' asks for confirmation (the old site goes read-only); not confirmed. Stages before "
        "it are complete; apply again to continue");
  CHECK(c.Value("a") == "");
  CHECK(c.Value("b") == "(absent)");
  c.asked = "";
  CHECK(c.Apply().kind == RunEnd::kOk);
  CHECK(c.Value("b") == "wanted");
}

TEST_CASE("a failed step ends the run as failed, its stage not complete, and the next apply goes on from it") {
  Cutover c(kTwoStages);
  c.w.mem->failing.insert("b");
  RunEnd end = c.Apply();
  CHECK(end.kind == RunEnd::kFailed);
  CHECK(end.error.find("stage 'two' failed:\n  mem_item.b: item 'b' refused the change") == 0);
  auto records = c.Records();
  CHECK(std::count(records.begin(), records.end(), "stage_complete two") == 0);
  CHECK(records.back() == "end failed");
  c.w.mem->failing.clear();
  c.w.mem->calls.clear();
  CHECK(c.Apply().kind == RunEnd::kOk);
  // Stage one is complete: only b is planned and changed.
  CHECK(std::count(c.w.mem->calls.begin(), c.w.mem->calls.end(), "create mem_item.b") == 1);
  CHECK(std::count(c.w.mem->calls.begin(), c.w.mem->calls.end(), "create mem_item.a") == 0);
}

TEST_CASE("rollback: planned back to what the spec wants at S, dependents first; run; then nothing is left") {
  Cutover c(R"(
[mem_item.site]
key = "site"
value = "old"
[mem_item.site.at.two]
value = "new"
[mem_item.page]
key = "page"
value = "${mem_item.site.key}"
stage = "two"
)");
  REQUIRE(c.Apply().kind == RunEnd::kOk);
  CHECK(c.Value("site") == "new");
  CHECK(c.Value("page") == "site");

  auto rb = c.PlanBack("one");
  REQUIRE(rb);
  CHECK(rb->drift.empty());
  CHECK(rb->undone == std::vector<std::string>{"two", "three"});
  const auto& steps = rb->plan.stages.front().steps;
  REQUIRE(steps.size() == 2);
  // The page (made after S, on the site) goes first; the site goes back to "old" after it.
  CHECK(c.spec().resources[steps[0].resource].address == "mem_item.page");
  CHECK(steps[0].action == Action::kDelete);
  CHECK(c.spec().resources[steps[1].resource].address == "mem_item.site");
  CHECK(steps[1].action == Action::kUpdate);
  CHECK(steps[1].reason == "back to what the spec wants at stage 'one'");

  CHECK(c.RunBack(*rb).kind == RunEnd::kOk);
  CHECK(c.Value("site") == "old");
  CHECK(c.Value("page") == "(absent)");
  auto again = c.PlanBack("one");
  REQUIRE(again);
  CHECK(again->Empty());
  auto records = c.Records();
  CHECK(records.back() == "end ok");
  CHECK(std::find(records.begin(), records.end(), "rollback_complete") != records.end());
}

TEST_CASE("rollback: a change since reconcile wrote a resource is drift") {
  Cutover c(kTwoStages);
  REQUIRE(c.Apply().kind == RunEnd::kOk);
  c.w.mem->world["b"].attrs["value"] = std::string("edited by hand");
  auto rb = c.PlanBack("one");
  REQUIRE(rb);
  CHECK(rb->drift == "\n  mem_item.b value: reconcile wrote \"wanted\", now \"edited by hand\"");
}
