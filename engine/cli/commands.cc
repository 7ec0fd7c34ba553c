#include "engine/cli/commands.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>

#include "engine/graph/graph.h"
#include "engine/plan/plan.h"
#include "engine/run/apply_stages.h"
#include "engine/cli/session.h"
#include "engine/markup.h"
#include "engine/os_calls.h"
#include "engine/shell_words.h"
#include "engine/spec/spec.h"

namespace reconcile {

namespace {

bool FindStage(const Spec& spec, const std::string& name, std::optional<std::size_t>* out) {
  if (name.empty()) return true;
  *out = spec.FindStage(name);
  if (!*out) {
    Fail("no stage '" + name + "' in " + spec.path + DidYouMean(name, spec.StageNames()));
    return false;
  }
  return true;
}

}  // namespace

int RunValidate(const Registry& registry, const CommonOptions& common) {
  auto session = OpenSession(registry, common, false);
  if (!session) return 1;
  const Spec& spec = session->spec();
  std::size_t checks = 0;
  for (const Resource& r : spec.resources) checks += r.is_check();
  auto count = [](std::size_t n, const char* what) { return std::to_string(n) + " " + what + (n == 1 ? "" : "s"); };
  std::cout << spec.path << ": valid: " << count(spec.stages.size(), "stage") << ", "
            << count(spec.resources.size() - checks, "resource") << ", " << count(checks, "check") << "\n";
  return 0;
}

namespace {

// The dependency graph drawn by Graphviz, for reports; "" (and a word on stderr) without it.
std::string GraphSvg(const Spec& spec) {
  char path[] = "/tmp/reconcile-graph-XXXXXX";
  int fd = ::mkstemp(path);
  if (fd < 0) return "";
  std::string dot = ToDot(spec, std::nullopt);
  bool written = ::write(fd, dot.data(), dot.size()) == static_cast<ssize_t>(dot.size());
  ::close(fd);
  std::string svg;
  if (written) {
    std::string command = std::string("dot -Tsvg ") + path + " 2>/dev/null";
    if (FILE* p = ::popen(command.c_str(), "r")) {
      char buf[8192];
      std::size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) svg.append(buf, n);
      if (::pclose(p) != 0) svg.clear();
    }
  }
  ::unlink(path);
  if (svg.empty()) std::cerr << "reconcile: Graphviz (dot) is not installed, so the report has no graph\n";
  return svg;
}

}  // namespace

int RunPlan(const Registry& registry, const CommonOptions& common, const PlanCommandOptions& options) {
  auto session = OpenSession(registry, common, true);
  if (!session) return 1;
  const Spec& spec = session->spec();
  RenderOptions render;
  render.explain = options.explain;
  if (!FindStage(spec, options.stage, &render.only_stage)) return 1;

  // A run that holds the journal now is mid-way: the steps it started are in flight, not cut
  // off, and what it has not done yet shows as to do.
  auto holder = session->journal->Holder();
  const bool running = holder.ok() && *holder && !(*holder)->gone;
  if (running)
    std::cerr << "reconcile: note: the journal is held by " << (*holder)->Describe()
              << ", which is still running: this plan is of the world mid-run; plan again once it ends.\n";
  // A rollback left unfinished stops apply before anything, whatever the plan says: said in
  // the plan itself, not only in a note, and not a plan a pipeline may read as "nothing to do".
  std::vector<const PendingStep*> unfinished;
  if (!running) unfinished = CutOffBlind(spec, session->history(), "rollback");
  if (!unfinished.empty())
    render.apply_stops = CutOffBlindText(spec, *unfinished.front()) + ", so the rollback is not finished";

  PlanOptions plan_options = PlanOptionsFor(*session);
  std::cerr << "reconcile: probing " << spec.resources.size()
            << (spec.resources.size() == 1 ? " resource" : " resources") << " of " << spec.name << "\n";
  auto plan = MakePlan(spec, session->graph, plan_options);
  if (!plan) {
    Fail(plan.error().message);
    return 1;
  }
  plan->journal_seq = session->history().last_seq;
  if (!options.out.empty()) {
    // Every stage is saved, but one shown is one reviewed: apply runs that stage and no other.
    RenderOptions saved;
    if (render.only_stage) saved.reviewed_stage = spec.stages[*render.only_stage].name;
    if (RefusedAsOwnFile(*session, "--out", options.out) ||
        !WriteAtomically(options.out, RenderJson(spec, *plan, saved)))
      return 1;
    std::cerr << "reconcile: plan saved to " << options.out;
    if (render.only_stage)
      std::cerr << " (stage '" << saved.reviewed_stage << "' only: reconcile apply " << ShellQuote(options.out)
                << " runs through it and no further)";
    std::cerr << "\n";
    std::size_t next = session->history().NextStage(session->StageNames());
    if (render.only_stage && next < *render.only_stage)
      std::cerr << "reconcile: note: stage '" << spec.stages[next].name
                << "' before it is not complete and is not shown, so apply will refuse this plan; save one of "
                   "every stage: "
                << CommandFor(common, "plan") << " --out " << ShellQuote(options.out) << "\n";
  }
  const std::string format = options.json ? "json" : options.format;
  Timings rehearsed;
  if (!LoadRehearsal(spec, options.timings, &rehearsed)) return 1;
  std::string rehearsal = RehearsalText(spec, rehearsed);
  // A report for a change request says how long the rehearsal took and where its timeline is.
  CommonOptions rehearsal_run = common;
  rehearsal_run.env = rehearsed.env;
  std::string history = CommandFor(rehearsal_run, "history") + " --format html > history.html";
  if (format == "json") {
    std::cout << RenderJson(spec, *plan, render);
  } else if (format == "markdown") {
    std::cout << RenderMarkdown(spec, *plan, render, GraphSvg(spec));
    if (!rehearsal.empty())
      std::cout << "\n## Rehearsal\n\n```\n"
                << rehearsal << "```\n\nIts timeline: [history.html](history.html), written by `" << history << "`.\n";
  } else if (format == "html") {
    std::string report = RenderHtml(spec, *plan, render, GraphSvg(spec));
    if (!rehearsal.empty()) {
      std::size_t end = report.rfind("</body>");
      report.insert(end == std::string::npos ? report.size() : end,
                    "<h2>Rehearsal</h2>\n<pre>" + XmlEscape(rehearsal) +
                        "</pre>\n<p>Its timeline: <a href=\"history.html\">history.html</a>, written by <code>" +
                        XmlEscape(history) + "</code>.</p>\n");
    }
    std::cout << report;
  } else {
    std::cout << RenderText(spec, *plan, render);
    if (!rehearsal.empty()) std::cout << "\n" << rehearsal;
  }
  // What apply will stop at before it runs anything there: said now, not at night mid-apply.
  for (const PendingStep* p :
       running ? std::vector<const PendingStep*>() : CutOffBlind(spec, session->history(), "apply"))
    std::cerr << "reconcile: note: " << CutOffBlindText(spec, *p) << "; apply will stop before it.\n  "
              << CutOffBlindFix(spec, *p, CommandFor(common, "apply")) << "\n";
  for (const PendingStep* p : unfinished)
    std::cerr << "reconcile: note: " << CutOffBlindText(spec, *p)
              << "; apply will stop before anything until the rollback is finished.\n  "
              << CutOffBlindFix(spec, *p, CommandFor(common, "rollback")) << "\n";
  // Any other rollback that did not finish: the world may match the spec, but the stages it
  // un-completed are not complete again until it finishes or apply passes them.
  if (std::string note = UnfinishedRollbackNote(spec, session->history(), common);
      !running && unfinished.empty() && !note.empty())
    std::cerr << "reconcile: note: " << note << "\n";
  return options.detailed_exitcode && (plan->HasChanges(render.only_stage) || !unfinished.empty()) ? 2 : 0;
}

int RunGraph(const Registry& registry, const CommonOptions& common, const std::string& stage) {
  auto session = OpenSession(registry, common, false);
  if (!session) return 1;
  std::optional<std::size_t> only;
  if (!FindStage(session->spec(), stage, &only)) return 1;
  std::cout << ToDot(session->spec(), only);
  return 0;
}

// `reconcile check SPEC [--stage S]`: each check (of stage S, or all) asked once, now, with what
// it saw; nothing is changed and no lock is taken. Exit 0 when all hold.
int RunCheck(const Registry& registry, const CommonOptions& common, const std::string& stage_name) {
  auto session = OpenSession(registry, common, false);
  if (!session) return 1;
  const Spec& spec = session->spec();
  std::optional<std::size_t> only;
  if (!FindStage(spec, stage_name, &only)) return 1;
  std::map<std::string, ProviderConfig> configs;
  std::size_t held = 0, asked = 0;
  std::vector<std::size_t> checks;
  for (std::size_t i = 0; i < spec.resources.size(); ++i)
    if (spec.resources[i].is_check() && (!only || spec.resources[i].stage == *only)) checks.push_back(i);
  // What they take from the world (an RDS endpoint) is read first; an error leaves it unknown.
  (void)ReadComputed(spec);
  for (std::size_t i : checks) {
    const Resource& r = spec.resources[i];
    ++asked;
    auto desired = Desired(spec, r, r.stage, true);
    if (desired && !desired->unknown.empty())
      desired = Error{"'" + desired->unknown.front() +
                      "' takes what another resource will be once it exists, and it does not exist yet"};
    auto target = desired ? TargetFor(spec, r, *desired, &configs) : Result<Target>(desired.error());
    Result<CheckResult> result = target ? r.provider->Check(*target) : Result<CheckResult>(target.error());
    const std::string stage = spec.stages[r.stage].name;
    if (!result) {
      std::cout << "  ✗ " << r.address << " (" << stage << "): cannot run: " << result.error().message << "\n";
    } else {
      held += result->holds;
      std::cout << "  " << (result->holds ? "✓ " : "✗ ") << r.address << " (" << stage << "): " << result->detail
                << "\n";
    }
  }
  if (asked == 0) {
    std::cout << "No checks" << (only ? " in stage " + stage_name : std::string()) << ".\n";
    return 0;
  }
  std::cout << held << " of " << asked << " checks hold.\n";
  return held == asked ? 0 : 1;
}

}  // namespace reconcile
