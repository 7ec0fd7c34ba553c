// Plans against the in-memory world: what is probed, what is diffed, and how it reads.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <map>

#include <nlohmann/json.hpp>

#include "tests/support/test_world.h"

using namespace reconcile;

namespace {

struct Planned {
  LoadResult load;
  DependencyGraph graph;
  Result<Plan> plan = Error{"not planned"};
};

Planned PlanOf(TestWorld& w, const std::string& text, PlanOptions options = {}) {
  Planned p;
  p.load = w.Load(text);
  REQUIRE_MESSAGE(p.load.spec, TestWorld::Errors(p.load));
  REQUIRE(p.graph.Build(*p.load.spec, &p.load.diags));
  p.plan = MakePlan(*p.load.spec, p.graph, options);
  return p;
}

State Item(AttrMap attrs) { return State{true, std::move(attrs)}; }

const char* kCutover = R"(version = 1
name = "cut"
stages = ["prepare", "switch", "cleanup"]

[stage.switch]
confirm = "traffic moves"

[mem_item.ttl]
key = "ttl"
size = 60
value = "old-target"
[mem_item.ttl.at.switch]
value = "new-target"
[mem_item.ttl.at.cleanup]
size = 3600

[mem_item.creds]
key = "creds"
secret = "env:RECONCILE_TEST_SECRET"

[mem_item.pointer]
stage = "switch"
key = "pointer"
value = "to ${mem_item.ttl.value}"

[mem_vault.old]
key = "old"
[mem_vault.old.at.cleanup]
ensure = "absent"

[check.site]
stage = "switch"
kind = "http"
url = "http://127.0.0.1:1/health"
)";

}  // namespace

TEST_CASE("a multi-stage plan reads like a reviewed diff") {
  TestWorld w;
  setenv("RECONCILE_TEST_SECRET", "hunter2", 1);
  w.mem->world["ttl"] = Item({{"key", "ttl"}, {"size", std::int64_t{3600}}, {"value", "old-target"}});
  w.mem->world["old"] = Item({{"key", "old"}});
  Planned p = PlanOf(w, kCutover);
  REQUIRE_MESSAGE(p.plan, p.plan.error().message);
  CHECK(RenderText(*p.load.spec, *p.plan, {}) ==
        "Plan for cut (spec.toml)\n"
        "\n"
        "stage prepare\n"
        "   ~ mem_item.ttl\n"
        "        size: 3600 → 60\n"
        "   + mem_item.creds\n"
        "        key:    \"creds\"\n"
        "        secret: (sensitive)\n"
        "\n"
        "stage switch  (asks before it starts: traffic moves)\n"
        "   ~ mem_item.ttl\n"
        "        value: \"old-target\" → \"new-target\"\n"
        "   + mem_item.pointer\n"
        "        key:   \"pointer\"\n"
        "        value: \"to new-target\"\n"
        "   ? check.site  http http://127.0.0.1:1/health\n"
        "\n"
        "stage cleanup\n"
        "   ~ mem_item.ttl\n"
        "        size: 60 → 3600\n"
        "  !- mem_vault.old  (irreversible: deleting a mem_vault loses what cannot be put back)\n"
        "\n"
        "Plan: 2 to create, 3 to update, 1 to delete, 1 check, 1 irreversible.\n");
  // One probe call for the whole batch, and nothing applied.
  CHECK(w.mem->calls == std::vector<std::string>{"probe 4"});
  // The secret was read to compare it, and is kept for apply, but never rendered.
  CHECK(RenderText(*p.load.spec, *p.plan, {}).find("hunter2") == std::string::npos);
  CHECK(RenderJson(*p.load.spec, *p.plan, {}).find("hunter2") == std::string::npos);
}

TEST_CASE("--explain says why each step exists and what it waits for") {
  TestWorld w;
  setenv("RECONCILE_TEST_SECRET", "hunter2", 1);
  Planned p = PlanOf(w, kCutover);
  REQUIRE(p.plan);
  RenderOptions options;
  options.explain = true;
  options.only_stage = 1;
  CHECK(RenderText(*p.load.spec, *p.plan, options) ==
        "Plan for cut (spec.toml)\n"
        "\n"
        "stage switch  (asks before it starts: traffic moves)\n"
        "   ~ mem_item.ttl\n"
        "        value: \"old-target\" → \"new-target\"\n"
        "        why: [mem_item.ttl.at.switch] (spec.toml:12:18) changes value\n"
        "   + mem_item.pointer\n"
        "        key:   \"pointer\"\n"
        "        value: \"to new-target\"\n"
        "        why: mem_item.pointer does not exist; the spec wants it from stage 'switch' (spec.toml:21:11)\n"
        "        after: mem_item.ttl\n"
        "   ? check.site  http http://127.0.0.1:1/health\n"
        "        why: a check of kind 'http' gates stage 'switch' (spec.toml:31:8)\n"
        "\n"
        "Plan: 1 to create, 1 to update, 0 to delete, 1 check, 0 irreversible.\n");
}

TEST_CASE("a step planned after the stages applied says the stage the spec wants it from") {
  TestWorld w;
  PlanOptions later;
  later.first_stage = 2;  // prepare and switch complete; mem_item.pointer (switch) missing since
  Planned p = PlanOf(w, kCutover, later);
  REQUIRE(p.plan);
  const std::vector<Step>& steps = p.plan->stages[0].steps;
  auto pointer = std::find_if(steps.begin(), steps.end(), [&](const Step& s) {
    return p.load.spec->resources[s.resource].address == "mem_item.pointer";
  });
  REQUIRE(pointer != steps.end());
  CHECK(pointer->stage == 2);
  CHECK(StepReason(*p.load.spec, *pointer).find("does not exist; the spec wants it from stage 'switch' (") !=
        std::string::npos);
}

TEST_CASE("a spec past 65,536 resources is read in rounds, every resource once") {
  TestWorld w;
  const int n = 65536 + 3;
  std::string text = "version = 1\nname = \"many\"\nstages = [\"one\"]\n";
  for (int i = 0; i < n; ++i) {
    std::string id = std::to_string(i);
    text += "[mem_item.r" + id + "]\nkey = \"k" + id + "\"\nvalue = \"v\"\n";
    // The last of each round already there, as wanted; the one before it there, but not as wanted.
    if (i == 65535 || i == n - 1) w.mem->world["k" + id] = Item({{"key", "k" + id}, {"value", "v"}});
    if (i == 65534 || i == n - 2) w.mem->world["k" + id] = Item({{"key", "k" + id}, {"value", "old"}});
  }
  Planned p = PlanOf(w, text);
  REQUIRE(p.plan);
  CHECK(w.mem->calls == std::vector<std::string>{"probe 65536", "probe 3"});
  PlanCounts c = p.plan->Counts();
  CHECK(c.create == static_cast<std::size_t>(n - 4));
  CHECK(c.update == 2);
  const std::vector<Step>& steps = p.plan->stages[0].steps;
  CHECK(std::none_of(steps.begin(), steps.end(), [&](const Step& s) {
    const std::string& a = p.load.spec->resources[s.resource].address;
    return a == "mem_item.r65535" || a == "mem_item.r65538";
  }));
}

// Each round's states are let go before the next is read: what crosses a round's edge (a
// reference, an error, a failed read) must come out as from one round.
std::string ManyItems(int n, const std::map<int, std::string>& extra) {
  std::string text = "version = 1\nname = \"many\"\nstages = [\"one\"]\n";
  for (int i = 0; i < n; ++i) {
    std::string id = std::to_string(i);
    text += "[mem_item.r" + id + "]\nkey = \"k" + id + "\"\n";
    auto it = extra.find(i);
    text += it == extra.end() ? "value = \"v\"\n" : it->second;
  }
  return text;
}

TEST_CASE("a reference across a round's edge is worked out as in one round") {
  TestWorld w;
  const int n = 65536 + 3;
  Planned p = PlanOf(w, ManyItems(n, {{0, "value = \"far\"\n"}, {65538, "value = \"${mem_item.r0.value}-x\"\n"}}));
  REQUIRE_MESSAGE(p.plan, (p.plan ? std::string() : p.plan.error().message));
  CHECK(p.plan->Counts().create == static_cast<std::size_t>(n));
  for (const Step& s : p.plan->stages[0].steps)
    if (p.load.spec->resources[s.resource].address == "mem_item.r65538")
      CHECK(s.desired.attrs.at("value") == Value("far-x"));
}

TEST_CASE("errors in two rounds are both said, and nothing is read") {
  TestWorld w;
  unsetenv("RECONCILE_TEST_MISSING");
  unsetenv("RECONCILE_TEST_MISSING_TOO");
  Planned p = PlanOf(w, ManyItems(65536 + 3, {{5, "secret = \"env:RECONCILE_TEST_MISSING\"\n"},
                                              {65537, "secret = \"env:RECONCILE_TEST_MISSING_TOO\"\n"}}));
  REQUIRE_FALSE(p.plan);
  const std::string& m = p.plan.error().message;
  CHECK(m.find("cannot work out what the spec wants:") == 0);
  CHECK(m.find("RECONCILE_TEST_MISSING is not set") != std::string::npos);
  CHECK(m.find("RECONCILE_TEST_MISSING_TOO is not set") != std::string::npos);
  CHECK(m.find("RECONCILE_TEST_MISSING is not set") < m.find("RECONCILE_TEST_MISSING_TOO is not set"));
  CHECK(w.mem->calls.empty());
}

TEST_CASE("what cannot be read in two rounds is said together") {
  TestWorld w;
  w.mem->unreadable = {"k2", "k65538"};
  Planned p = PlanOf(w, ManyItems(65536 + 3, {}));
  REQUIRE_FALSE(p.plan);
  CHECK(p.plan.error().message ==
        "cannot read the current state of:\n  mem_item.r2: item 'k2' cannot be read\n"
        "  mem_item.r65538: item 'k65538' cannot be read");
  CHECK(w.mem->calls == std::vector<std::string>{"probe 65536", "probe 3"});
}

TEST_CASE("a converged spec plans to nothing") {
  TestWorld w;
  w.mem->world["a"] = Item({{"key", "a"}, {"value", "x"}, {"tags", StringList{"b", "a"}}, {"extra", "unmanaged"}});
  Planned p = PlanOf(w, std::string(kHeader) + R"(
[mem_item.a]
key = "a"
value = "x"
tags = ["a", "b"]
)");
  REQUIRE(p.plan);
  CHECK_FALSE(p.plan->HasChanges());
  CHECK(RenderText(*p.load.spec, *p.plan, {}) ==
        "Plan for t (spec.toml)\n\nstage one: no changes\n\nstage two: no changes\n\nstage three: no changes\n"
        "\nNo changes: the world matches the spec.\n");
}

TEST_CASE("applying every step through the provider converges: the next plan is empty") {
  TestWorld w;
  w.mem->world["b"] = Item({{"key", "b"}, {"value", "stale"}});
  w.mem->world["gone"] = Item({{"key", "gone"}});
  std::string spec = std::string(kHeader) + R"(
[mem_item.a]
key = "a"
size = 3
[mem_item.b]
key = "b"
value = "fresh"
[mem_item.gone]
key = "gone"
ensure = "absent"
)";
  Planned p = PlanOf(w, spec);
  REQUIRE(p.plan);
  CHECK(p.plan->Counts().create == 1);
  CHECK(p.plan->Counts().update == 1);
  CHECK(p.plan->Counts().remove == 1);
  for (const StagePlan& sp : p.plan->stages) {
    for (const Step& step : sp.steps) {
      const Resource& r = p.load.spec->resources[step.resource];
      Change c{step.action, Target{r.address, r.schema, step.desired.attrs}, step.prior, {}};
      REQUIRE(r.provider->Apply(c));
    }
  }
  Planned again = PlanOf(w, spec);
  REQUIRE(again.plan);
  CHECK_FALSE(again.plan->HasChanges());
}

TEST_CASE("an irreversible attribute change is marked, and only changed attributes are listed") {
  TestWorld w;
  w.mem->world["a"] = Item({{"key", "a"}, {"locked", false}, {"value", "same"}});
  Planned p = PlanOf(w, std::string(kHeader) + R"(
[mem_item.a]
key = "a"
value = "same"
locked = true
)");
  REQUIRE(p.plan);
  const Step& step = p.plan->stages[0].steps.at(0);
  CHECK(step.action == Action::kUpdate);
  CHECK(step.irreversible);
  REQUIRE(step.changes().size() == 1);
  CHECK(step.changes()[0].name == "locked");
  CHECK(p.plan->Counts().irreversible == 1);
}

TEST_CASE("a resource that cannot be read fails the plan, naming it") {
  TestWorld w;
  w.mem->unreadable.insert("b");
  Planned p = PlanOf(w, std::string(kHeader) + R"(
[mem_item.a]
key = "a"
[mem_item.b]
key = "b"
)");
  REQUIRE_FALSE(p.plan);
  CHECK(p.plan.error().message == "cannot read the current state of:\n  mem_item.b: item 'b' cannot be read");
}

TEST_CASE("a missing secret fails the plan before anything is probed") {
  TestWorld w;
  unsetenv("RECONCILE_TEST_MISSING");
  Planned p = PlanOf(w, std::string(kHeader) + R"(
[mem_item.a]
key = "a"
secret = "env:RECONCILE_TEST_MISSING"
)");
  REQUIRE_FALSE(p.plan);
  CHECK(p.plan.error().message ==
        "cannot work out what the spec wants:\n  spec.toml:7:10: attribute 'secret' of mem_item.a: the environment "
        "variable RECONCILE_TEST_MISSING is not set (export it, or use file:PATH)");
  CHECK(w.mem->calls.empty());
}

TEST_CASE("what the spec gets wrong is said in the spec's order, not the order it is worked out in") {
  TestWorld w;
  unsetenv("RECONCILE_TEST_MISSING_A");
  unsetenv("RECONCILE_TEST_MISSING_B");
  Planned p = PlanOf(w, std::string(kHeader) + R"(
[mem_item.a]
key = "a"
secret = "env:RECONCILE_TEST_MISSING_A"
after = ["mem_item.b"]
[mem_item.b]
key = "b"
secret = "env:RECONCILE_TEST_MISSING_B"
)");
  REQUIRE_FALSE(p.plan);
  const std::string& m = p.plan.error().message;
  REQUIRE(m.find("RECONCILE_TEST_MISSING_B") != std::string::npos);
  CHECK(m.find("RECONCILE_TEST_MISSING_A") < m.find("RECONCILE_TEST_MISSING_B"));
}

TEST_CASE("a complete stage asked for alone is said to be complete, not to match the world") {
  TestWorld w;
  w.mem->world["a"] = Item({{"key", "a"}, {"value", "by hand"}});
  PlanOptions options;
  options.first_stage = 2;  // one and two complete
  Planned p = PlanOf(w, std::string(kHeader) + "[mem_item.a]\nkey = \"a\"\nvalue = \"v\"\n", options);
  REQUIRE(p.plan);
  RenderOptions only_one;
  only_one.only_stage = 0;
  std::string text = RenderText(*p.load.spec, *p.plan, only_one);
  CHECK(text.find("No changes") == std::string::npos);
  CHECK(text.find("Stage 'one' is complete, and a complete stage is not planned again: the world is compared with "
                  "the spec from stage 'three' on (plan --stage three).") != std::string::npos);
  std::string report = RenderMarkdown(*p.load.spec, *p.plan, only_one, "");
  CHECK(report.find("No changes") == std::string::npos);
  CHECK(report.find("Stage 'one' is complete") != std::string::npos);
  RenderOptions only_three;
  only_three.only_stage = 2;
  CHECK(RenderText(*p.load.spec, *p.plan, only_three).find("1 to update") != std::string::npos);
}

TEST_CASE("planning from a later stage starts from the world, not from earlier stages") {
  TestWorld w;
  w.mem->world["ttl"] = Item({{"key", "ttl"}, {"size", std::int64_t{60}}, {"value", "new-target"}});
  Planned p = PlanOf(w, std::string(kHeader) + R"(
[mem_item.ttl]
key = "ttl"
size = 60
value = "old-target"
[mem_item.ttl.at.two]
value = "new-target"
[mem_item.ttl.at.three]
size = 3600
)",
                     PlanOptions{1});
  REQUIRE(p.plan);
  REQUIRE(p.plan->stages.size() == 2);
  CHECK(p.plan->stages[0].steps.empty());  // stage two: already true in the world
  REQUIRE(p.plan->stages[1].steps.size() == 1);
  CHECK(p.plan->stages[1].steps[0].changes()[0].name == "size");
}

TEST_CASE("a provider instance's secret is resolved for the probe, and a missing one is named") {
  TestWorld w;
  unsetenv("RECONCILE_TEST_TOKEN");
  Planned p = PlanOf(w, std::string(kHeader) + R"(
[provider.mem.main]
region = "eu"
token = "env:RECONCILE_TEST_TOKEN"
[mem_remote.a]
key = "a"
)");
  REQUIRE_FALSE(p.plan);
  CHECK(p.plan.error().message.find("mem_remote.a: spec.toml:7:9: 'token' of [provider.mem.main]: the environment "
                                    "variable RECONCILE_TEST_TOKEN is not set") != std::string::npos);
}

namespace {

const std::string kMirror = std::string(kHeader) + R"(
[mem_item.src]
key = "src"
value = "v1"
[mem_item.src.at.two]
value = "v2"

[mem_mirror.copy]
key = "copy"
from = "src"
after = ["mem_item.src"]
)";

}  // namespace

TEST_CASE("the provider's Review decides a step the attributes alone would not, with details for --explain") {
  TestWorld w;
  w.mem->world["src"] = Item({{"key", "src"}, {"value", "v1"}});
  w.mem->world["copy"] = Item({{"key", "copy"}, {"from", "src"}, {"value", "stale"}});
  Planned p = PlanOf(w, kMirror);
  REQUIRE_MESSAGE(p.plan, p.plan.error().message);
  std::string text = RenderText(*p.load.spec, *p.plan, {});
  CHECK(text.find("stage one\n   ~ mem_mirror.copy\n        copy: 1 value to copy\n") != std::string::npos);
  CHECK(text.find("          v1\n") == std::string::npos);
  RenderOptions explain;
  explain.explain = true;
  CHECK(RenderText(*p.load.spec, *p.plan, explain).find("        copy: 1 value to copy\n          v1\n") !=
        std::string::npos);
  auto json = nlohmann::json::parse(RenderJson(*p.load.spec, *p.plan, {}));
  const auto& change = json["stages"][0]["steps"][0]["changes"][0];
  CHECK(change["summary"] == "1 value to copy");
  CHECK(change["details"] == nlohmann::json::array({"v1"}));
}

TEST_CASE("a resource whose state follows another's is planned again in each stage that changes it") {
  TestWorld w;
  w.mem->world["src"] = Item({{"key", "src"}, {"value", "v1"}});
  w.mem->world["copy"] = Item({{"key", "copy"}, {"from", "src"}, {"value", "v1"}});
  Planned p = PlanOf(w, kMirror);
  REQUIRE_MESSAGE(p.plan, p.plan.error().message);
  REQUIRE(p.plan->stages.size() == 3);
  CHECK(p.plan->stages[0].steps.empty());  // in step: nothing to copy, nothing changes it
  const auto& two = p.plan->stages[1].steps;
  REQUIRE(two.size() == 2);
  CHECK(p.load.spec->resources[two[0].resource].address == "mem_item.src");
  CHECK(p.load.spec->resources[two[1].resource].address == "mem_mirror.copy");
  CHECK(two[1].action == Action::kUpdate);
  CHECK(RenderText(*p.load.spec, *p.plan, {})
            .find("   ~ mem_mirror.copy\n        follows: mem_item.src: what changes is read when it has run\n") !=
        std::string::npos);
  CHECK(p.plan->stages[2].steps.empty());  // nothing it depends on changes there
}

TEST_CASE("a command's plan shows what it runs: argv as one sh line, scripts folded, secrets hidden") {
  TestWorld w;
  setenv("RECONCILE_TEST_TOKEN", "tok-3141", 1);
  std::string script;
  for (int i = 1; i <= 12; ++i) script += "echo line " + std::to_string(i) + "\n";
  Planned p = PlanOf(w, std::string(kHeader) + R"(
[command.migrate]
host = "local"
apply = ["psql", "-c", "it's", "db name", "--plain=x"]
env = { MODE = "fast lane", TOKEN = "env:RECONCILE_TEST_TOKEN" }
path = "/opt/tool/bin:/usr/bin"

[command.script]
host = "local"
shell = true
apply = """
)" + script + R"("""
revert = "rm -f /tmp/x"

[check.ready]
kind = "command"
command = ["test", "-e", "/tmp/a b"]
)");
  REQUIRE_MESSAGE(p.plan, p.plan.error().message);
  std::string text = RenderText(*p.load.spec, *p.plan, {});
  CHECK(text ==
        "Plan for t (spec.toml)\n"
        "\n"
        "stage one\n"
        "   + command.migrate\n"
        "        apply: psql -c 'it'\\''s' 'db name' --plain=x\n"
        "        env:   { MODE = \"fast lane\", TOKEN = (sensitive) }\n"
        "        path:  \"/opt/tool/bin:/usr/bin\"\n"
        "   + command.script\n"
        "        apply:  echo line 1\n"
        "                echo line 2\n"
        "                echo line 3\n"
        "                echo line 4\n"
        "                echo line 5\n"
        "                echo line 6\n"
        "                echo line 7\n"
        "                echo line 8\n"
        "                echo line 9\n"
        "                echo line 10\n"
        "                … 2 more lines\n"
        "        revert: rm -f /tmp/x\n"
        "        shell:  true\n"
        "   ? check.ready  command test -e '/tmp/a b'\n"
        "\n"
        "stage two: no changes\n"
        "\n"
        "stage three: no changes\n"
        "\n"
        "Plan: 2 to create, 0 to update, 0 to delete, 1 check, 0 irreversible.\n");
  std::string json = RenderJson(*p.load.spec, *p.plan, {});
  CHECK(json.find("tok-3141") == std::string::npos);
  auto doc = nlohmann::json::parse(json);
  const auto& changes = doc["stages"][0]["steps"][0]["changes"];
  REQUIRE(changes.size() == 3);
  CHECK(changes[0]["text"] == "psql -c 'it'\\''s' 'db name' --plain=x");
  CHECK(changes[0]["new"] == nlohmann::json::array({"psql", "-c", "it's", "db name", "--plain=x"}));
  CHECK(changes[1]["attribute"] == "env");
  CHECK(changes[1]["sensitive"] == true);
  CHECK(changes[1]["new"].is_null());
  CHECK(changes[1]["text"] == "{ MODE = \"fast lane\", TOKEN = (sensitive) }");
}

TEST_CASE("a value that cannot be worked out is said once, where it is, not at every reference to it") {
  TestWorld w;
  std::string spec = std::string(kHeader) +
                     "[mem_item.r0]\nkey = \"r0\"\nvalue = \"v0\"\n"
                     "[mem_item.r1]\nkey = \"r1\"\nwait = \"${mem_item.r0.value}\"\n";
  for (int i = 2; i < 400; ++i)
    spec += "[mem_item.r" + std::to_string(i) + "]\nkey = \"r" + std::to_string(i) + "\"\nwait = \"${mem_item.r" +
            std::to_string(i - 1) + ".wait}\"\n";
  Planned p = PlanOf(w, spec);
  REQUIRE_FALSE(p.plan);
  const std::string& why = p.plan.error().message;
  const std::string cause = "attribute 'wait' of mem_item.r1 must be a duration";
  CHECK(why.find(cause) != std::string::npos);
  CHECK(why.find(cause) == why.rfind(cause));  // once
  CHECK(why.size() < 400 * 200);               // linear in the chain, not quadratic
}

TEST_CASE("a chain of 20,000 references, entered at a later stage than it starts, plans without a call per link") {
  // Half the chain enters at stage one, half at stage three: asked at stage three, each link
  // of the first half is worked out there for the first time. Recursing through the links
  // overflowed the stack at about 6,000.
  TestWorld w;
  const int n = 20000;
  std::string spec = "version = 1\nname = \"chain\"\nstages = [\"one\", \"two\", \"three\"]\n";
  spec += "[mem_item.r0]\nstage = \"one\"\nkey = \"r0\"\nvalue = \"v0\"\n[mem_item.r0.at.two]\nvalue = \"v2\"\n";
  for (int i = 1; i < n; ++i)
    spec += "[mem_item.r" + std::to_string(i) + "]\nstage = \"" + (i < n / 2 ? "one" : "three") + "\"\nkey = \"r" +
            std::to_string(i) + "\"\nvalue = \"${mem_item.r" + std::to_string(i - 1) + ".value}\"\n";
  Planned p = PlanOf(w, spec);
  REQUIRE_MESSAGE(p.plan, p.plan.error().message);
  REQUIRE(p.plan->stages.size() == 3);
  // r0's overlay at stage two moves every link that is there by then; none that enter later.
  CHECK(p.plan->stages[0].steps.size() == n / 2);
  CHECK(p.plan->stages[1].steps.size() == n / 2);
  CHECK(p.plan->stages[2].steps.size() == n / 2);
  const Step& last = p.plan->stages[2].steps.back();
  CHECK(std::get<std::string>(last.desired.attrs.at("value")) == "v2");
}

TEST_CASE("a value taken from a secret through a long chain of references is sensitive at its end") {
  TestWorld w;
  setenv("PLAN_TEST_CHAIN_SECRET", "tok-2718", 1);
  std::string spec = std::string(kHeader) + "[mem_item.r0]\nkey = \"r0\"\nsecret = \"env:PLAN_TEST_CHAIN_SECRET\"\n" +
                     "[mem_item.r1]\nkey = \"r1\"\nvalue = \"${mem_item.r0.secret}\"\n";
  for (int i = 2; i < 5000; ++i)
    spec += "[mem_item.r" + std::to_string(i) + "]\nkey = \"r" + std::to_string(i) + "\"\nvalue = \"x${mem_item.r" +
            std::to_string(i - 1) + ".value}\"\n";
  spec += "[mem_item.plain]\nkey = \"plain\"\nvalue = \"${mem_item.r0.key}\"\n";
  Planned p = PlanOf(w, spec);
  REQUIRE_MESSAGE(p.plan, p.plan.error().message);
  const Spec& s = *p.load.spec;
  CHECK(IsSensitive(s, *s.Find("mem_item.r4999"), "value"));
  CHECK(IsSensitive(s, *s.Find("mem_item.r1"), "value"));
  CHECK_FALSE(IsSensitive(s, *s.Find("mem_item.plain"), "value"));
  CHECK_FALSE(IsSensitive(s, *s.Find("mem_item.r4999"), "key"));
  std::string text = RenderText(s, *p.plan, {});
  CHECK(text.find("tok-2718") == std::string::npos);
}
