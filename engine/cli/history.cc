#include "engine/cli/history.h"

#include <algorithm>
#include <fstream>
#include <iostream>

#include "engine/cli/session.h"
#include "engine/duration.h"
#include "engine/exec/walk.h"

namespace reconcile {

namespace {

const char* Symbol(const std::string& action) {
  if (action == "create") return "+";
  if (action == "update") return "~";
  if (action == "delete") return "-";
  return "?";
}

}  // namespace

std::string HistoryText(const Spec& spec, const std::string& journal, const std::vector<RunTime>& runs) {
  std::string out = spec.name + ": " + std::to_string(runs.size()) + (runs.size() == 1 ? " run" : " runs") + " in " +
                    journal + " (times UTC)\n";
  std::size_t n = 0;
  for (const RunTime& run : runs) {
    ++n;
    out += "\n#" + std::to_string(n) + " " + run.op +
           (run.op == "apply" ? " through " + run.through : " to " + run.to) + " by " + run.holder +
           (run.env.empty() ? "" : ", --env " + run.env) + "\n   " + ShowTime(run.started) + " to " +
           ShowTime(run.ended).substr(11) + " (" + FormatDuration(Between(run.started, run.ended)) +
           "): " + run.result + "\n";
    std::size_t width = 0;
    for (const StageTime& st : run.stages) width = std::max(width, st.name.size());
    for (const StageTime& st : run.stages) {
      out += "   " + st.name + std::string(width - st.name.size() + 2, ' ') +
             FormatDuration(Between(st.started, st.ended)) + (st.complete ? "" : "  (not complete)") + "\n";
      for (const StepTime& step : st.steps) {
        out += "     " + std::string(Symbol(step.action)) + " " + step.address + "  " +
               FormatDuration(Between(step.started, step.ended));
        if (!step.finished) out += "  cut off";
        else if (!step.ok) out += "  FAILED: " + StepErrorText(step.address, step.error, "         ");
        out += "\n";
      }
    }
  }
  return out;
}

int RunHistory(const Registry& registry, const CommonOptions& common, const HistoryCommandOptions& options) {
  auto session = OpenSession(registry, common, true);
  if (!session) return 1;
  const Spec& spec = session->spec();
  auto records = session->journal->Read();
  if (!records) {
    Fail(records.error().message);
    return 1;
  }
  std::vector<RunTime> runs = RunsOf(*records);
  if (!options.export_file.empty()) {
    Timings t = TimingsOf(runs);
    if (t.Empty()) {
      Fail("the journal " + session->journal->Describe() +
           " has no completed stage of an apply to take timings from; apply (a rehearsal) first");
      return 1;
    }
    if (RefusedAsOwnFile(*session, "--export", options.export_file) ||
        !WriteAtomically(options.export_file, TimingsToJson(spec, t).dump(2) + "\n"))
      return 1;
    auto count = [](std::size_t n, const char* what) { return std::to_string(n) + " " + what + (n == 1 ? "" : "s"); };
    std::cerr << "reconcile: timings of " << count(t.stages.size(), "stage") << " and " << count(t.steps.size(), "step")
              << " (" << t.source << ") written to " << options.export_file << "\n";
    return 0;
  }
  std::cout << (options.format == "html" ? HistoryHtml(spec, session->journal->Describe(), runs)
                                         : HistoryText(spec, session->journal->Describe(), runs));
  return 0;
}

}  // namespace reconcile
