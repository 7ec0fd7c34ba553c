// The executor against the in-memory world and a real journal file: dependents of a failed
// step do not run, independent ones do, limits hold, and every step is journaled around it.
#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "engine/exec/executor.h"
#include "engine/journal/history.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_world.h"

using namespace reconcile;
namespace fs = std::filesystem;

namespace {

struct Recorder : Progress {
  std::vector<std::string> lines;
  std::mutex mu;
  void StageStarted(const std::string&, std::size_t) override {}
  void StepStarted(const std::string&, Action) override {}
  void StepFinished(const std::string& a, Action, const std::string& e, std::chrono::milliseconds) override {
    std::lock_guard<std::mutex> g(mu);
    lines.push_back(a + (e.empty() ? " ok" : " failed"));
  }
  void CheckWaiting(const std::string& a, const std::string& d, std::chrono::milliseconds,
                    std::chrono::milliseconds) override {
    std::lock_guard<std::mutex> g(mu);
    lines.push_back(a + " waiting: " + d);
  }
  void Note(const std::string&) override {}
};

struct Fixture {
  TempDir tmp;
  fs::path dir = tmp.path;
  TestWorld w;
  LoadResult load;
  DependencyGraph graph;
  std::unique_ptr<Journal> journal;
  Sealer sealer;
  Recorder progress;

  explicit Fixture(const std::string& spec) {
    load = w.Load(spec);
    REQUIRE_MESSAGE(load.spec, TestWorld::Errors(load));
    REQUIRE(graph.Build(*load.spec, &load.diags));
    journal = OpenFileJournal((dir / "j").string());
  }

  Plan MakeIt() {
    auto plan = MakePlan(*load.spec, graph, {});
    REQUIRE(plan);
    return *plan;
  }
};

const std::string kChain = std::string(kHeader) + kChainItems;

}  // namespace

TEST_CASE("a failed step stops what depends on it; independent steps still run") {
  Fixture f(kChain);
  f.w.mem->failing.insert("middle");
  Plan plan = f.MakeIt();
  Executor ex(ExecContext{*f.load.spec, *f.journal, f.sealer, f.progress, "apply", 4, 4});
  const auto& steps = plan.stages[0].steps;
  auto results = ex.RunSteps(steps, "one");
  std::map<std::string, StepResult> by;
  for (std::size_t i = 0; i < steps.size(); ++i) by[f.load.spec->resources[steps[i].resource].address] = results[i];
  CHECK(by["mem_item.base"].ok);
  CHECK(by["mem_item.alone"].ok);
  CHECK_FALSE(by["mem_item.middle"].ok);
  CHECK(by["mem_item.middle"].error == "item 'middle' refused the change");
  CHECK_FALSE(by["mem_item.top"].ran);
  CHECK(by["mem_item.top"].error == "not run: it depends on mem_item.middle, which did not succeed");
  CHECK_FALSE(f.w.mem->world.count("top"));

  // Each step that ran is an intent followed by its outcome, in the journal, on disk.
  auto records = f.journal->Read();
  REQUIRE(records);
  std::map<std::string, std::vector<std::string>> per;
  for (const JournalRecord& r : *records) per[r.data.value("address", "")].push_back(r.kind);
  CHECK(per["mem_item.base"] == std::vector<std::string>{"intent", "done"});
  CHECK(per["mem_item.middle"] == std::vector<std::string>{"intent", "failed"});
  CHECK_FALSE(per.count("mem_item.top"));
}

TEST_CASE("steps run in parallel up to the limit, and dependencies still go first") {
  std::string spec = kHeader;
  for (int i = 0; i < 12; ++i) spec += "[mem_item.i" + std::to_string(i) + "]\nkey = \"i" + std::to_string(i) + "\"\n";
  spec += "[mem_item.last]\nkey = \"last\"\nafter = [\"mem_item.i0\", \"mem_item.i11\"]\n";
  Fixture f(spec);
  f.w.mem->apply_delay = std::chrono::milliseconds(30);
  Plan plan = f.MakeIt();
  Executor ex(ExecContext{*f.load.spec, *f.journal, f.sealer, f.progress, "apply", 3, 8});
  auto results = ex.RunSteps(plan.stages[0].steps, "one");
  for (const StepResult& r : results) CHECK(r.ok);
  CHECK(f.w.mem->max_in_flight.load() == 3);  // side by side, never more than the limit
  CHECK(f.w.mem->calls.back() == "create mem_item.last");
}

// A thread per batch, joined as soon as its batch has reported. Left until the stage's end, a
// finished thread keeps its stack mapped: a rollback of 45,000 steps held 32,000 of them, ran
// out of mappings (vm.max_map_count) and aborted starting the next.
struct MapCounter : Recorder {
  std::atomic<long> most{0};
  static long Maps() {
    std::ifstream maps("/proc/self/maps");
    long n = 0;
    for (std::string line; std::getline(maps, line);) ++n;
    return n;
  }
  void StepFinished(const std::string& a, Action act, const std::string& e, std::chrono::milliseconds ms) override {
    Recorder::StepFinished(a, act, e, ms);
    long n = Maps();
    for (long was = most.load(); n > was && !most.compare_exchange_weak(was, n);) {
    }
  }
};

TEST_CASE("a finished batch's thread is let go while the stage runs on") {
  std::string spec = kHeader;
  for (int i = 0; i < 300; ++i) spec += "[mem_item.i" + std::to_string(i) + "]\nkey = \"i" + std::to_string(i) + "\"\n";
  Fixture f(spec);
  Plan plan = f.MakeIt();
  MapCounter counter;
  const long before = MapCounter::Maps();
  Executor ex(ExecContext{*f.load.spec, *f.journal, f.sealer, counter, "apply", 4, 4});
  auto results = ex.RunSteps(plan.stages[0].steps, "one");
  REQUIRE(results.size() == 300);
  for (const StepResult& r : results) CHECK(r.ok);
  // Two mappings (a stack and its guard) for each thread still held: those in flight only.
  CHECK(counter.most.load() - before < 60);
}

TEST_CASE("the per-instance limit holds even when the overall limit is higher") {
  std::string spec = kHeader;
  for (int i = 0; i < 6; ++i) spec += "[mem_item.i" + std::to_string(i) + "]\nkey = \"i" + std::to_string(i) + "\"\n";
  Fixture f(spec);
  f.w.mem->apply_delay = std::chrono::milliseconds(20);
  Plan plan = f.MakeIt();
  Executor ex(ExecContext{*f.load.spec, *f.journal, f.sealer, f.progress, "apply", 8, 2});
  auto results = ex.RunSteps(plan.stages[0].steps, "one");
  for (const StepResult& r : results) CHECK(r.ok);
  CHECK(f.w.mem->max_in_flight.load() == 2);
}

TEST_CASE("Ctrl-C: the steps in flight finish and are journaled, the rest do not start") {
  std::string spec = kHeader;
  for (int i = 0; i < 6; ++i) spec += "[mem_item.i" + std::to_string(i) + "]\nkey = \"i" + std::to_string(i) + "\"\n";
  Fixture f(spec);
  f.w.mem->apply_delay = std::chrono::milliseconds(300);
  Plan plan = f.MakeIt();
  InstallInterruptHandler();
  g_interrupts = 0;
  Executor ex(ExecContext{*f.load.spec, *f.journal, f.sealer, f.progress, "apply", 2, 2});
  std::thread interrupter([&] {
    // Once two steps are in flight (however loaded the machine), not after a guessed delay.
    while (f.w.mem->max_in_flight.load() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    ::kill(::getpid(), SIGINT);  // a real signal, through the real handler
  });
  auto results = ex.RunSteps(plan.stages[0].steps, "one");
  interrupter.join();
  int done = 0, not_run = 0;
  for (const StepResult& r : results) {
    if (r.ok) ++done;
    else if (r.error == "not run: interrupted") ++not_run;
  }
  CHECK(done == 2);  // the two in flight
  CHECK(not_run == 4);
  auto records = f.journal->Read();
  REQUIRE(records);
  CHECK(records->size() == 4);  // two intents, two done
  g_interrupts = 0;
  ::signal(SIGINT, SIG_DFL);
}

TEST_CASE("a second Ctrl-C exits at once with 130, and the journal stays readable") {
  std::string spec = kHeader;
  for (int i = 0; i < 4; ++i) spec += "[mem_item.i" + std::to_string(i) + "]\nkey = \"i" + std::to_string(i) + "\"\n";
  Fixture f(spec);
  f.w.mem->apply_delay = std::chrono::milliseconds(2000);
  Plan plan = f.MakeIt();
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    InstallInterruptHandler();
    Executor ex(ExecContext{*f.load.spec, *f.journal, f.sealer, f.progress, "apply", 4, 4});
    ex.RunSteps(plan.stages[0].steps, "one");
    ::_exit(0);
  }
  // The first Ctrl-C once all four steps are journaled and running (the handler is in place
  // by then), not after a guessed delay.
  auto journal = OpenFileJournal((f.dir / "j").string());
  for (int i = 0; i < 1000; ++i) {
    auto seen = journal->Read();
    if (seen && seen->size() >= 4) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(child, SIGINT);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto start = std::chrono::steady_clock::now();
  ::kill(child, SIGINT);
  int status = 0;
  ::waitpid(child, &status, 0);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::milliseconds(1500));  // did not wait for the steps
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
  auto records = OpenFileJournal((f.dir / "j").string())->Read();
  REQUIRE(records);
  CHECK(records->size() == 4);  // four intents, no outcome: pending for the next run
  History h = Summarize(*records);
  CHECK(h.pending.size() == 4);
}

namespace {

const std::string kMirror = std::string(kHeader) + R"(
[mem_item.src]
key = "src"
value = "v1"
size = 1
[mem_item.src.at.two]
value = "v2"
[mem_item.src.at.three]
size = 2

[mem_mirror.copy]
key = "copy"
from = "src"
after = ["mem_item.src"]
)";

State Item(AttrMap attrs) { return State{true, std::move(attrs)}; }

}  // namespace

TEST_CASE("a follower is read again after what it depends on ran, and journals what it really changed") {
  Fixture f(kMirror);
  f.w.mem->world["src"] = Item({{"key", "src"}, {"value", "v1"}, {"size", std::int64_t{1}}});
  f.w.mem->world["copy"] = Item({{"key", "copy"}, {"from", "src"}, {"value", "v1"}});
  Plan plan = f.MakeIt();
  Executor ex(ExecContext{*f.load.spec, *f.journal, f.sealer, f.progress, "apply", 4, 4});
  auto results = ex.RunSteps(plan.stages[1].steps, "two");
  for (const StepResult& r : results) CHECK_MESSAGE(r.ok, r.error);
  CHECK(std::get<std::string>(f.w.mem->world["copy"].attrs["value"]) == "v2");
  // The prior it journaled is the one read just before it ran (behind by "v2"), not the plan's.
  auto records = f.journal->Read();
  REQUIRE(records);
  bool seen = false;
  for (const JournalRecord& r : *records)
    if (r.kind == "intent" && r.data.value("address", "") == "mem_mirror.copy") {
      seen = true;
      CHECK(r.data.dump().find("\"behind\":\"v2\"") != std::string::npos);
    }
  CHECK(seen);

  // Stage three changes the source but not what the copy follows: read again, nothing to do.
  f.w.mem->calls.clear();
  results = ex.RunSteps(plan.stages[2].steps, "three");
  for (const StepResult& r : results) CHECK_MESSAGE(r.ok, r.error);
  CHECK(std::find(f.w.mem->calls.begin(), f.w.mem->calls.end(), "update mem_mirror.copy") == f.w.mem->calls.end());
  CHECK(std::find(f.w.mem->calls.begin(), f.w.mem->calls.end(), "update mem_item.src") != f.w.mem->calls.end());
}
