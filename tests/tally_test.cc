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
  void StageFinished(const std::string& s, bool complete) override {
    seen.push_back("end " + s + (complete ? " complete" : " not complete"));
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

}  // namespace

TEST_CASE("a run's counts by action, per stage and in all") {
  Printer printer;
  Tally tally(printer);
  tally.StageStarted("ttl", 1);
  tally.StepFinished("dns_record.www", Action::kUpdate, "", milliseconds(5));
  tally.StageFinished("ttl", true);
  tally.StageStarted("switch-over", 4);
  tally.StepFinished("file.a", Action::kCreate, "", milliseconds(1));
  tally.StepFinished("file.b", Action::kCreate, "", milliseconds(1));
  tally.StepFinished("file.c", Action::kDelete, "", milliseconds(1));
  tally.StepFinished("check.health", Action::kCheck, "", milliseconds(1));
  tally.StageFinished("switch-over", true);
  tally.StageStarted("day2", 0);
  tally.StageFinished("day2", true);

  CHECK(tally.Summary().rfind("2 created, 1 updated, 1 deleted, 1 check held, in ", 0) == 0);
  std::string lines = tally.StageLines();
  CHECK(lines.find("  ttl          1 updated") != std::string::npos);
  CHECK(lines.find("  switch-over  2 created, 1 deleted, 1 check held") != std::string::npos);
  CHECK(lines.find("  day2         no changes") != std::string::npos);
  CHECK(lines.find("cut off") == std::string::npos);
  CHECK(std::count(lines.begin(), lines.end(), '\n') == 3);
}

TEST_CASE("a failed step counts as failed, not as what it tried; a stage cut off is said so") {
  Printer printer;
  Tally tally(printer);
  tally.StageStarted("freeze", 2);
  tally.StepFinished("command.stop", Action::kCreate, "exit 1", milliseconds(1));
  tally.StepFinished("check.down", Action::kCheck, "timed out", milliseconds(1));
  tally.StageFinished("freeze", false);
  tally.StageStarted("migrate", 1);
  CHECK(tally.Summary().rfind("2 failed, in ", 0) == 0);
  std::string lines = tally.StageLines();
  CHECK(lines.find("freeze   2 failed") != std::string::npos);
  CHECK(lines.find("(not complete)") != std::string::npos);
  CHECK(lines.find("migrate  no changes") != std::string::npos);
  CHECK(lines.find("(cut off)") != std::string::npos);
}

TEST_CASE("every event reaches the printer, in order") {
  Printer printer;
  Tally tally(printer);
  tally.StageStarted("one", 1);
  tally.StepStarted("file.a", Action::kCreate);
  tally.CheckWaiting("check.x", "not yet", milliseconds(1), milliseconds(2));
  tally.Note("hello");
  tally.StepFinished("file.a", Action::kCreate, "", milliseconds(1));
  tally.StageFinished("one", true);
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
