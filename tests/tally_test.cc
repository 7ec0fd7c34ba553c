// The lines that end an apply or rollback: steps counted by what they did, stages timed and
// aligned, a stage cut off or not complete said so, and every event still reaching the printer.
#include <doctest/doctest.h>

#include "engine/exec/tally.h"

using namespace reconcile;
using std::chrono::milliseconds;

namespace {

struct Printer : Progress {
  std::vector<std::string> seen;
  void StageStarted(const std::string& s, std::size_t) override { seen.push_back("stage " + s); }
  void StageFinished(const std::string& s, const StageOutcome& o) override {
    seen.push_back("end " + s + (o.complete ? " complete" : " not complete"));
  }
  void StepStarted(const std::string& a, Action) override { seen.push_back("start " + a); }
  void StepFinished(const std::string& a, Action, const std::string& e, milliseconds) override {
    seen.push_back("finish " + a + (e.empty() ? "" : " " + e));
  }
  void CheckWaiting(const std::string& a, const std::string&, milliseconds, milliseconds) override {
    seen.push_back("wait " + a);
  }
  void Note(const std::string& line) override { seen.push_back("note " + line); }
};

StageOutcome Complete() {
  StageOutcome o;
  o.complete = true;
  return o;
}

}  // namespace

TEST_CASE("a run's counts by action, per stage and in all") {
  Printer printer;
  Tally tally(printer);
  tally.StageStarted("ttl", 1);
  tally.StepFinished("dns_record.www", Action::kUpdate, "", milliseconds(5));
  tally.StageFinished("ttl", Complete());
  tally.StageStarted("switch-over", 4);
  tally.StepFinished("file.a", Action::kCreate, "", milliseconds(1));
  tally.StepFinished("file.b", Action::kCreate, "", milliseconds(1));
  tally.StepFinished("file.c", Action::kDelete, "", milliseconds(1));
  tally.StepFinished("check.health", Action::kCheck, "", milliseconds(1));
  tally.StageFinished("switch-over", Complete());
  tally.StageStarted("day2", 0);
  tally.StageFinished("day2", Complete());

  CHECK(tally.Summary().rfind("2 created, 1 updated, 1 deleted, 1 check held, in ", 0) == 0);
  std::string lines = tally.StageLines();
  CHECK(lines.find("  ttl          1 updated") != std::string::npos);
  CHECK(lines.find("  switch-over  2 created, 1 deleted, 1 check held") != std::string::npos);
  CHECK(lines.find("  day2         no changes") != std::string::npos);
  CHECK(lines.find("cut off") == std::string::npos);
  CHECK(std::count(lines.begin(), lines.end(), '\n') == 3);
}

TEST_CASE("failures come from the stage's outcome, not from what the failed steps tried") {
  Printer printer;
  Tally tally(printer);
  tally.StageStarted("freeze", 3);
  tally.StepFinished("command.stop", Action::kCreate, "exit 1", milliseconds(1));
  // One failed before it could start (no StepFinished) and one was left out: the outcome has both.
  StageOutcome failed;
  failed.failed = 2;
  failed.not_run = 1;
  tally.StageFinished("freeze", failed);
  tally.StageStarted("migrate", 1);
  tally.StepFinished("file.x", Action::kNone, "", milliseconds(0));  // found done as it was to run
  StageOutcome interrupted;
  interrupted.interrupted = true;
  tally.StageFinished("migrate", interrupted);
  CHECK(tally.Summary().rfind("1 already done, 2 failed, 1 not run, in ", 0) == 0);
  std::string lines = tally.StageLines();
  CHECK(lines.find("freeze   2 failed, 1 not run") != std::string::npos);
  CHECK(lines.find("(failed)") != std::string::npos);
  CHECK(lines.find("migrate  1 already done") != std::string::npos);
  CHECK(lines.find("(interrupted)") != std::string::npos);
}

TEST_CASE("a stage whose walk has not ended is said to be running") {
  Printer printer;
  Tally tally(printer);
  tally.StageStarted("switch", 1);
  CHECK(tally.StageLines().find("switch  no changes") != std::string::npos);
  CHECK(tally.StageLines().find("(running)") != std::string::npos);
}

TEST_CASE("every event reaches the printer, in order") {
  Printer printer;
  Tally tally(printer);
  tally.StageStarted("one", 1);
  tally.StepStarted("file.a", Action::kCreate);
  tally.CheckWaiting("check.x", "not yet", milliseconds(1), milliseconds(2));
  tally.Note("hello");
  tally.StepFinished("file.a", Action::kCreate, "", milliseconds(1));
  tally.StageFinished("one", Complete());
  CHECK(printer.seen == std::vector<std::string>{"stage one", "start file.a", "wait check.x", "note hello",
                                                 "finish file.a", "end one complete"});
}

TEST_CASE("no stage: nothing counted") {
  Printer printer;
  Tally tally(printer);
  CHECK(tally.Stages().empty());
  CHECK(tally.Summary().rfind("no changes, in ", 0) == 0);
  CHECK(tally.StageLines().empty());
}
