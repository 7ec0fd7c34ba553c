// An attribute the world never tells (AttrSchema::write_only, an RDS master password): taken
// as what reconcile last wrote, so a converged world plans nothing, a rollback puts the old
// value back, and a change to a value reconcile never wrote is said to be irreversible.
#include <doctest/doctest.h>

#include "tests/support/cutover.h"

using namespace reconcile;

namespace {

const char* kPassword = R"(
[mem_item.db]
key = "db"
password = "alpha"
[mem_item.db.at.two]
password = "beta"
)";

std::string Password(Cutover& c) {
  auto it = c.w.mem->world.find("db");
  if (it == c.w.mem->world.end()) return "(absent)";
  auto v = it->second.attrs.find("password");
  return v == it->second.attrs.end() ? "(none)" : std::get<std::string>(v->second);
}

Plan PlanNow(Cutover& c) {
  REQUIRE(RefreshHistory(&c.session));
  auto plan = MakePlan(c.spec(), c.session.graph, PlanOptionsFor(c.session));
  REQUIRE(plan);
  return *plan;
}

const Step* StepOf(const Plan& plan, std::size_t stage) {
  for (const StagePlan& sp : plan.stages)
    if (sp.stage == stage && !sp.steps.empty()) return &sp.steps.front();
  return nullptr;
}

}  // namespace

TEST_CASE("write_only: with a [state] key, what reconcile wrote is sealed, read back for plans and rolled back to") {
  Cutover c(kPassword, "the-operators-key");
  REQUIRE(c.Apply("one").kind == RunEnd::kOk);
  CHECK(Password(c) == "alpha");
  Plan after_one = PlanNow(c);
  CHECK_FALSE(after_one.HasChanges(0));  // stage one: converged, though the probe cannot tell
  const Step* two = StepOf(after_one, 1);
  REQUIRE(two);
  CHECK(two->action == Action::kUpdate);
  CHECK_FALSE(two->irreversible);  // the old value is known, and sealed in the journal

  REQUIRE(c.Apply().kind == RunEnd::kOk);
  CHECK(Password(c) == "beta");
  CHECK_FALSE(PlanNow(c).HasChanges());

  auto rb = c.PlanBack("one");
  REQUIRE(rb);
  CHECK(rb->drift.empty());
  REQUIRE(rb->plan.stages.front().steps.size() == 1);
  CHECK_FALSE(rb->plan.stages.front().steps[0].irreversible);
  REQUIRE(c.RunBack(*rb).kind == RunEnd::kOk);
  CHECK(Password(c) == "alpha");
  auto again = c.PlanBack("one");
  REQUIRE(again);
  CHECK(again->Empty());
  CHECK(again->drift.empty());
}

TEST_CASE("write_only: without a key, the spec's value at the stage reconcile wrote it stands for it") {
  Cutover c(kPassword);
  REQUIRE(c.Apply("one").kind == RunEnd::kOk);
  Plan after_one = PlanNow(c);
  CHECK_FALSE(after_one.HasChanges(0));
  const Step* two = StepOf(after_one, 1);
  REQUIRE(two);
  CHECK(two->irreversible);  // the old value would not be kept
  CHECK(c.Apply().kind == RunEnd::kStopped);
  REQUIRE(c.Apply("", "", true).kind == RunEnd::kOk);
  CHECK_FALSE(PlanNow(c).HasChanges());
  // Back to stage one: the spec says what it was there.
  auto rb = c.PlanBack("one");
  REQUIRE(rb);
  CHECK(rb->drift.empty());
  REQUIRE(c.RunBack(*rb).kind == RunEnd::kOk);
  CHECK(Password(c) == "alpha");
}

TEST_CASE("write_only: a value reconcile never wrote is changed, and the plan says it cannot be put back") {
  Cutover c(kPassword, "the-operators-key");
  c.w.mem->world["db"] = State{true, {{"key", std::string("db")}, {"password", std::string("set-by-hand")}}};
  Plan plan = PlanNow(c);
  const Step* one = StepOf(plan, 0);
  REQUIRE(one);
  CHECK(one->action == Action::kUpdate);
  CHECK(one->irreversible);
  CHECK(one->irreversible_reason ==
        "its current 'password' cannot be read back and reconcile has not written it, so it could not be put back");
  CHECK(c.Apply("one").kind == RunEnd::kStopped);
  CHECK(Password(c) == "set-by-hand");
  REQUIRE(c.Apply("one", "", true).kind == RunEnd::kOk);
  CHECK(Password(c) == "alpha");
  CHECK_FALSE(PlanNow(c).HasChanges(0));
}

TEST_CASE("write_only: after a failed change the value is taken as the one written before, and set again") {
  Cutover c(kPassword, "the-operators-key");
  REQUIRE(c.Apply("one").kind == RunEnd::kOk);
  c.w.mem->failing.insert("db");
  CHECK(c.Apply().kind == RunEnd::kFailed);
  c.w.mem->failing.clear();
  Plan plan = PlanNow(c);
  const Step* two = StepOf(plan, 1);
  REQUIRE(two);
  CHECK(two->action == Action::kUpdate);  // not taken as the failed step's value
  CHECK_FALSE(two->irreversible);
  REQUIRE(c.Apply().kind == RunEnd::kOk);
  CHECK(Password(c) == "beta");
  CHECK_FALSE(PlanNow(c).HasChanges());
}
