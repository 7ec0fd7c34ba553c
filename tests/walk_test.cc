// The walk of a stage's steps against a fake runner: order, limits, batches, what a failure
// or Ctrl-C stops, and where checks go — each asserted on the exact starts and finishes, with
// no threads or sleeps.
#include <doctest/doctest.h>

#include "engine/exec/walk.h"
#include "tests/support/fake_step_runner.h"
#include "tests/support/test_world.h"

using namespace reconcile;

namespace {

struct Walk {
  TestWorld w;
  LoadResult load;
  DependencyGraph graph;
  std::vector<Step> steps;
  std::unique_ptr<FakeStepRunner> runner;

  explicit Walk(const std::string& body) {
    load = w.Load(std::string(kHeader) + body);
    REQUIRE_MESSAGE(load.spec, TestWorld::Errors(load));
    REQUIRE(graph.Build(*load.spec, &load.diags));
    auto plan = MakePlan(*load.spec, graph, {});
    REQUIRE(plan);
    REQUIRE(!plan->stages.empty());
    steps = plan->stages[0].steps;
    runner = std::make_unique<FakeStepRunner>(*load.spec);
  }

  std::vector<StepResult> Run(WalkLimits limits = {}) { return WalkSteps(*load.spec, steps, *runner, limits); }

  const StepResult& Of(const std::vector<StepResult>& results, const std::string& address) {
    for (std::size_t i = 0; i < steps.size(); ++i)
      if (load.spec->resources[steps[i].resource].address == address) return results[i];
    FAIL("no step for " << address);
    return results[0];
  }
};

std::string Items(int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += "[mem_item.i" + std::to_string(i) + "]\nkey = \"i" + std::to_string(i) + "\"\n";
  return out;
}

}  // namespace

TEST_CASE("a step starts only after what it is `after` has finished") {
  Walk walk(kChainItems);
  auto results = walk.Run();
  for (const StepResult& r : results) CHECK(r.ok);
  FakeStepRunner& f = *walk.runner;
  REQUIRE(f.started.size() == 4);
  CHECK(f.StartedAt("mem_item.middle") > f.FinishedAt("mem_item.base"));
  CHECK(f.StartedAt("mem_item.top") > f.FinishedAt("mem_item.middle"));
  // What waits on nothing starts at once, beside the chain's first step.
  CHECK(f.StartedAt("mem_item.alone") < 2);
  CHECK(f.StartedAt("mem_item.base") < 2);
}

TEST_CASE("a failed step stops what depends on it, directly or not; independent steps run") {
  Walk walk(kChainItems);
  walk.runner->failing.insert("mem_item.base");
  auto results = walk.Run();
  CHECK(!walk.Of(results, "mem_item.base").ok);
  CHECK(walk.Of(results, "mem_item.base").ran);
  CHECK(walk.Of(results, "mem_item.middle").error == "not run: it depends on mem_item.base, which did not succeed");
  CHECK(!walk.Of(results, "mem_item.middle").ran);
  CHECK(walk.Of(results, "mem_item.top").error == "not run: it depends on mem_item.middle, which did not succeed");
  CHECK(walk.Of(results, "mem_item.alone").ok);
  CHECK(walk.runner->StartedAt("mem_item.middle") == -1);
  CHECK(Failures(*walk.load.spec, walk.steps, results) ==
        "\n  mem_item.base: told to fail\n  mem_item.middle: not run: it depends on mem_item.base, which did not "
        "succeed\n  mem_item.top: not run: it depends on mem_item.middle, which did not succeed");
}

TEST_CASE("the overall limit holds, and every step still runs") {
  Walk walk(Items(7));
  auto results = walk.Run({3, 8});
  CHECK(walk.runner->most_at_once == 3);
  CHECK(walk.runner->finished.size() == 7);
  for (const StepResult& r : results) CHECK(r.ok);
}

TEST_CASE("the limit of one slot holds while other slots go on") {
  Walk walk(Items(6));
  for (int i = 0; i < 6; ++i) walk.runner->slot["mem_item.i" + std::to_string(i)] = i < 4 ? "db" : "web";
  walk.Run({8, 2});
  CHECK(walk.runner->most_in_slot["db"] == 2);
  CHECK(walk.runner->most_in_slot["web"] == 2);
  CHECK(walk.runner->most_at_once == 4);
}

TEST_CASE("changes of one batch that are ready together start as one") {
  Walk walk(Items(3) + "[mem_item.late]\nkey = \"late\"\nafter = [\"mem_item.i0\"]\n");
  for (const char* a : {"mem_item.i0", "mem_item.i1", "mem_item.i2", "mem_item.late"}) walk.runner->batch[a] = "b";
  walk.Run();
  REQUIRE(walk.runner->batches.size() == 2);
  CHECK(walk.runner->batches[0] == std::vector<std::string>{"mem_item.i0", "mem_item.i1", "mem_item.i2"});
  CHECK(walk.runner->batches[1] == std::vector<std::string>{"mem_item.late"});
}

TEST_CASE("Ctrl-C: what runs finishes and is reported; nothing more starts") {
  Walk walk(Items(5));
  walk.runner->interrupt_after = 1;
  auto results = walk.Run({2, 8});
  CHECK(walk.runner->started.size() == 2);
  CHECK(walk.runner->finished.size() == 2);  // both in flight were let finish
  int ran = 0, stopped = 0;
  for (const StepResult& r : results) {
    if (r.ok) ++ran;
    else if (r.error == "not run: interrupted" && !r.ran) ++stopped;
  }
  CHECK(ran == 2);
  CHECK(stopped == 3);
}

TEST_CASE("what an interrupt left out is said for the first few steps, then counted") {
  Walk walk(Items(20));
  walk.runner->interrupt_after = 1;
  auto results = walk.Run({1, 8});
  std::string text = Failures(*walk.load.spec, walk.steps, results);
  std::size_t lines = 0;
  for (char c : text) lines += c == '\n';
  CHECK(lines == kShownNotRun + 1);
  CHECK(text.ends_with("\n  … and 9 more steps not run"));
}

// A wait check and an item after it.
constexpr const char* kGatedByCheck = R"(
[check.ready]
kind = "wait"
duration = "1s"
[mem_item.gated]
key = "gated"
after = ["check.ready"]
)";

TEST_CASE("a check waits for the stage's changes; a resource after the check waits for it") {
  Walk walk(Items(2) + kGatedByCheck);
  auto results = walk.Run();
  for (const StepResult& r : results) CHECK(r.ok);
  FakeStepRunner& f = *walk.runner;
  CHECK(f.StartedAt("check.ready") > f.FinishedAt("mem_item.i0"));
  CHECK(f.StartedAt("check.ready") > f.FinishedAt("mem_item.i1"));
  CHECK(f.StartedAt("mem_item.gated") > f.FinishedAt("check.ready"));
}

TEST_CASE("a check that does not hold stops what is after it, not the rest") {
  Walk walk(Items(1) + kGatedByCheck);
  walk.runner->failing.insert("check.ready");
  auto results = walk.Run();
  CHECK(walk.Of(results, "mem_item.i0").ok);
  CHECK(walk.Of(results, "mem_item.gated").error == "not run: it depends on check.ready, which did not succeed");
}

TEST_CASE("checks take no slot: two poll at once under a limit of one") {
  Walk walk("[check.a]\nkind = \"wait\"\nduration = \"1s\"\n[check.b]\nkind = \"wait\"\nduration = \"1s\"\n");
  walk.Run({1, 1});
  CHECK(walk.runner->events ==
        std::vector<std::string>{"start check.a", "start check.b", "finish check.a", "finish check.b"});
}
