// Computed attributes (AttrSchema::computed, an RDS instance's address): read from the world,
// never written; a reference to one is the value once the resource exists and "(known after
// apply)" before, worked out by the executor once what it refers to has run.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "tests/support/cutover.h"

using namespace reconcile;

namespace {

// The database and what reaches it made in one stage; the app's settings move to it in two.
const char* kSameStage = R"(
[mem_item.db]
key = "db"
[mem_item.app]
key = "app"
value = "postgres://app@${mem_item.db.endpoint}:5432/app"
)";

const char* kLaterStage = R"(
[mem_item.db]
key = "db"
[mem_item.app]
key = "app"
value = "old-db.example"
[mem_item.app.at.two]
value = "${mem_item.db.endpoint}"
tags = ["db=${mem_item.db.endpoint}"]
)";

Plan PlanNow(Cutover& c) {
  REQUIRE(RefreshHistory(&c.session));
  auto plan = MakePlan(c.spec(), c.session.graph, PlanOptionsFor(c.session));
  REQUIRE(plan);
  return *plan;
}

const Step* StepFor(const Plan& plan, const Spec& spec, const std::string& address, std::size_t stage) {
  for (const StagePlan& sp : plan.stages)
    for (const Step& s : sp.steps)
      if (sp.stage == stage && spec.resources[s.resource].address == address) return &s;
  return nullptr;
}

std::string Endpoint(Cutover& c, const std::string& key) {
  auto it = c.w.mem->world.find(key);
  if (it == c.w.mem->world.end()) return "(absent)";
  return std::get<std::string>(it->second.attrs.at("endpoint"));
}

std::string JournalText(Cutover& c) {
  std::ifstream in(c.tmp.path / "journal");
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

}  // namespace

TEST_CASE("computed: a spec that sets one is refused, at its place, saying how to refer to it") {
  TestWorld w;
  std::string base = std::string(kHeader) + "[mem_item.db]\nkey = \"db\"\n";
  CHECK(w.FirstError(base + "endpoint = \"x\"\n") ==
        "6:1: error: 'endpoint' of mem_item.db is read from the world, not set");
  CHECK(w.FirstError(base + "[mem_item.db.at.two]\nendpoint = \"x\"\n") ==
        "7:1: error: 'endpoint' of mem_item.db is read from the world, not set");
  LoadResult r = w.Load(base + "endpoint = \"x\"\n");
  CHECK(TestWorld::Errors(r).find("refer to it as ${mem_item.db.endpoint}") != std::string::npos);
}

TEST_CASE("computed: before the resource exists the plan says (known after apply); apply works it out") {
  Cutover c(kSameStage);
  Plan plan = PlanNow(c);
  const Step* app = StepFor(plan, c.spec(), "mem_item.app", 0);
  REQUIRE(app);
  ChangeList changes = app->changes();
  REQUIRE(changes.size() >= 1);
  const AttrChange* value = nullptr;
  for (const AttrChange& ch : changes)
    if (ch.name == "value") value = &ch;
  REQUIRE(value);
  CHECK(value->known_after_apply);
  CHECK(ChangeText(*app, *value) == "\"postgres://app@(known after apply):5432/app\"");
  // Its JSON says so instead of a value.
  auto json = nlohmann::json::parse(RenderJson(c.spec(), plan, {}));
  bool said = false;
  for (const auto& st : json["stages"])
    for (const auto& step : st["steps"])
      for (const auto& ch : step["changes"])
        if (ch["attribute"] == "value" && step["address"] == "mem_item.app")
          said = ch.value("known_after_apply", false) && ch["new"].is_null();
  CHECK(said);

  REQUIRE(c.Apply().kind == RunEnd::kOk);
  std::string endpoint = Endpoint(c, "db");
  CHECK(endpoint == "db-1.mem.internal");
  CHECK(c.Value("app") == "postgres://app@db-1.mem.internal:5432/app");
  // What was journaled and handed over is the value, never what stood for it.
  CHECK(JournalText(c).find("known after apply") == std::string::npos);
  // Once it exists, the plan knows it: nothing left to do.
  CHECK_FALSE(PlanNow(c).HasChanges());
}

TEST_CASE("computed: a reference in a later stage is known when that stage is planned; rollback puts it back") {
  Cutover c(kLaterStage);
  REQUIRE(c.Apply("one").kind == RunEnd::kOk);
  Plan plan = PlanNow(c);
  const Step* app = StepFor(plan, c.spec(), "mem_item.app", 1);
  REQUIRE(app);
  CHECK(app->desired.unknown.empty());
  CHECK(std::get<std::string>(app->desired.attrs.at("value")) == "db-1.mem.internal");
  CHECK(RenderText(c.spec(), plan, {}).find("known after apply") == std::string::npos);

  REQUIRE(c.Apply().kind == RunEnd::kOk);
  CHECK(c.Value("app") == "db-1.mem.internal");
  CHECK(std::get<StringList>(c.w.mem->world.at("app").attrs.at("tags")) == StringList{"db=db-1.mem.internal"});
  auto rb = c.PlanBack("one");
  REQUIRE(rb);
  REQUIRE(c.RunBack(*rb).kind == RunEnd::kOk);
  CHECK(c.Value("app") == "old-db.example");
  CHECK(Endpoint(c, "db") == "db-1.mem.internal");  // made in one: kept
}

TEST_CASE("computed: what a rollback removed and apply makes again is read anew") {
  // Both enter in two: a rollback to one removes them, and the database made again has
  // another endpoint, which the app must take.
  Cutover c(R"(
[mem_item.db]
key = "db"
stage = "two"
[mem_item.app]
key = "app"
stage = "two"
value = "${mem_item.db.endpoint}"
)");
  REQUIRE(c.Apply().kind == RunEnd::kOk);
  CHECK(c.Value("app") == "db-1.mem.internal");
  auto rb = c.PlanBack("one");
  REQUIRE(rb);
  REQUIRE(c.RunBack(*rb).kind == RunEnd::kOk);
  CHECK(c.Value("app") == "(absent)");
  CHECK(Endpoint(c, "db") == "(absent)");
  REQUIRE(c.Apply().kind == RunEnd::kOk);
  CHECK(Endpoint(c, "db") == "db-2.mem.internal");
  CHECK(c.Value("app") == "db-2.mem.internal");
  CHECK_FALSE(PlanNow(c).HasChanges());
}

TEST_CASE("computed: a step whose value is still not known when it runs fails, saying why, and writes nothing") {
  // Planned while the database did not exist, run without it (removed by hand, or its step
  // left out): the app's value cannot be worked out.
  Cutover c(kSameStage);
  Plan plan = PlanNow(c);
  const Step* app = StepFor(plan, c.spec(), "mem_item.app", 0);
  REQUIRE(app);
  std::vector<Step> only = {*app};
  only[0].after.clear();
  Executor ex(ExecContext{c.spec(), *c.session.journal, c.session.sealer, c.notes, "apply", 4, 4});
  std::vector<StepResult> results = ex.RunSteps(only, "one");
  REQUIRE(results.size() == 1);
  CHECK_FALSE(results[0].ok);
  CHECK(results[0].error ==
        "'value' takes what mem_item.db will be once it exists, and it does not exist yet; "
        "apply what makes it first");
  CHECK(c.Value("app") == "(absent)");  // nothing half-made with a placeholder in it
  CHECK(JournalText(c).find("known after apply") == std::string::npos);
}

TEST_CASE("computed: a value built from one that takes it waits for it too, and a saved plan's apply goes through") {
  // config takes app's value, which takes the database's endpoint; both enter in two, the
  // database in one. The reviewed plan says (known after apply) for both; as stage two
  // begins they are known, and that is no new step for a saved plan.
  Cutover c(R"(
[mem_item.db]
key = "db"
[mem_item.app]
key = "app"
stage = "two"
value = "host=${mem_item.db.endpoint}"
[mem_item.config]
key = "config"
stage = "two"
value = "[${mem_item.app.value}]"
)");
  Plan plan = PlanNow(c);
  const Step* config = StepFor(plan, c.spec(), "mem_item.config", 1);
  REQUIRE(config);
  CHECK(config->desired.Unknown("value"));
  REQUIRE(c.Apply("", "saved.plan").kind == RunEnd::kOk);
  CHECK(c.Value("config") == "[host=db-1.mem.internal]");
  CHECK_FALSE(c.notes.Said("new  "));
}

TEST_CASE("computed: a database retired with what refers to it plans, and goes") {
  Cutover c(R"(
[mem_item.db]
key = "db"
[mem_item.db.at.three]
ensure = "absent"
[mem_item.app]
key = "app"
value = "${mem_item.db.endpoint}"
[mem_item.app.at.three]
ensure = "absent"
)");
  REQUIRE(c.Apply("two").kind == RunEnd::kOk);
  CHECK(c.Value("app") == "db-1.mem.internal");
  Plan plan = PlanNow(c);
  CHECK(plan.Counts(2).remove == 2);
  REQUIRE(c.Apply().kind == RunEnd::kOk);
  CHECK(c.Value("app") == "(absent)");
  CHECK(Endpoint(c, "db") == "(absent)");
}

TEST_CASE("computed: what the world gave is never a change, though the journal holds an older one") {
  // The database is made in one and changed in two; someone then remakes it by hand, with
  // another endpoint. Going back to one puts its value back and asks nothing of the endpoint.
  Cutover c(R"(
[mem_item.db]
key = "db"
value = "small"
[mem_item.db.at.two]
value = "large"
)");
  REQUIRE(c.Apply().kind == RunEnd::kOk);
  c.w.mem->world["db"].attrs["endpoint"] = Value(std::string("db-by-hand.mem.internal"));
  CHECK_FALSE(PlanNow(c).HasChanges());
  auto rb = c.PlanBack("one");
  REQUIRE(rb);
  REQUIRE(rb->plan.stages.front().steps.size() == 1);
  const Step& back = rb->plan.stages.front().steps[0];
  REQUIRE(back.changes().size() == 1);
  CHECK(back.changes()[0].name == "value");
  REQUIRE(c.RunBack(*rb).kind == RunEnd::kOk);
  CHECK(c.Value("db") == "small");
}

TEST_CASE("computed: a revert that takes a value no longer known fails, saying why, and runs nothing") {
  // A step run once in two whose revert names the database's endpoint; the database is then
  // removed by hand, so the rollback cannot know what the revert would be handed.
  Cutover c(R"(
[mem_item.db]
key = "db"
[command.note]
stage = "two"
host = "local"
apply = ["true", "${mem_item.db.endpoint}"]
revert = ["touch", "${mem_item.db.endpoint}"]
)");
  RunEnd applied = c.Apply();
  REQUIRE_MESSAGE(applied.kind == RunEnd::kOk, applied.error);
  c.w.mem->world.erase("db");
  auto rb = c.PlanBack("one");
  REQUIRE(rb);
  RunEnd end = c.RunBack(*rb);
  CHECK(end.kind == RunEnd::kFailed);
  CHECK(end.error.find("takes what mem_item.db will be once it exists, and it does not exist yet") !=
        std::string::npos);
  CHECK_FALSE(std::filesystem::exists("(known after apply)"));
  CHECK(JournalText(c).find("known after apply") == std::string::npos);
}
