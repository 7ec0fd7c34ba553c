// The engine's stage driver and rollback planner on the in-memory world with a real journal
// file: each stage planned from the world as it begins, held to the reviewed plan, stopped
// where it must with the journal saying so; and a rollback planned, run and found done.
#include <doctest/doctest.h>

#include <filesystem>

#include "engine/run/apply_stages.h"
#include "engine/run/rollback_plan.h"
#include "tests/support/cutover.h"

using namespace reconcile;

namespace {

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

TEST_CASE("rollback: a kept item named with ${run} is taken under a new name after a rollback, and no drift") {
  Cutover c(R"(
[mem_item.site]
key = "site"
value = "old"
[mem_item.site.at.two]
value = "new"
[mem_snapshot.before]
stage = "three"
key = "before-${run}"
)");
  REQUIRE(c.Apply().kind == RunEnd::kOk);
  CHECK(c.w.mem->world.count("before-1"));
  auto to_two = c.PlanBack("two");
  REQUIRE(to_two);
  REQUIRE(c.RunBack(*to_two).kind == RunEnd::kOk);
  CHECK(c.w.mem->world.count("before-1"));  // kept
  // Its name is "before-2" now (a rollback before its stage), which does not exist: that
  // is no drift of what reconcile wrote as "before-1".
  auto to_one = c.PlanBack("one");
  REQUIRE(to_one);
  CHECK(to_one->drift.empty());
  REQUIRE(c.RunBack(*to_one).kind == RunEnd::kOk);
  CHECK(c.Value("site") == "old");
  REQUIRE(c.Apply().kind == RunEnd::kOk);
  CHECK(c.w.mem->world.count("before-2"));  // two rollbacks one after another count once
}
