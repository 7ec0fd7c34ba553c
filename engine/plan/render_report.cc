// The plan as a report to attach to a change request: what each stage changes, what cannot be
// undone, what the checks wait for, and the dependency graph. One model, two forms
// (Markdown and standalone HTML), so the two say the same things.
#include <algorithm>
#include <sstream>

#include "engine/hash.h"
#include "engine/journal/journal.h"
#include "engine/markup.h"
#include "engine/plan/plan.h"

namespace reconcile {

namespace {

struct Row {
  std::string symbol;
  std::string address;
  std::vector<std::string> changes;  // "ttl: 300 → 30"
  std::string note;                  // irreversible reason, or what a check looks at
  bool irreversible = false;
};

struct Section {
  std::string title;
  std::string confirm;
  std::vector<Row> rows;
  std::vector<std::string> guards;
};

struct Report {
  std::string title;
  std::string summary;
  std::vector<Section> stages;
  std::vector<std::string> irreversible;
};

std::string Counts(const PlanCounts& c) {
  return std::to_string(c.create) + " to create, " + std::to_string(c.update) + " to update, " +
         std::to_string(c.remove) + " to delete, " + std::to_string(c.check) + " checks, " +
         std::to_string(c.irreversible) + " irreversible";
}

Report Build(const Spec& spec, const Plan& plan, const RenderOptions& options) {
  Report r;
  r.title = options.title.empty() ? "Plan for " + spec.name : options.title;
  for (const StagePlan& sp : plan.stages) {
    if (options.only_stage && *options.only_stage != sp.stage) continue;
    const StageSpec& stage = spec.stages[sp.stage];
    Section s;
    s.title = (options.rollback ? "Back to the end of stage " : "Stage ") + stage.name;
    if (!options.rollback) s.confirm = stage.confirm;
    s.guards = sp.guards;
    for (const Step& step : sp.steps) {
      const Resource& res = spec.resources[step.resource];
      Row row;
      row.symbol = step.irreversible ? "!" + std::string(ActionSymbol(step.action)) : ActionSymbol(step.action);
      row.address = res.address;
      for (const AttrChange& c : step.changes()) row.changes.push_back(c.name + ": " + ChangeText(spec, step, c));
      if (step.action == Action::kCheck) row.note = CheckSummary(spec, res, step.desired.attrs);
      if (step.irreversible) {
        row.irreversible = true;
        row.note = "irreversible: " + step.irreversible_reason;
        r.irreversible.push_back(stage.name + ": " + res.address + " — " + step.irreversible_reason);
      }
      s.rows.push_back(std::move(row));
    }
    r.stages.push_back(std::move(s));
  }
  PlanCounts c = plan.Counts(options.only_stage);
  r.summary = CompleteStageNote(spec, plan, options);
  if (r.summary.empty()) r.summary = c.changes() == 0 ? "No changes: the world matches the spec." : Counts(c) + ".";
  if (!options.apply_stops.empty()) r.summary += " But apply will stop before anything: " + options.apply_stops + ".";
  return r;
}

// Markdown text: no pipes to break a table, no line breaks, no tags a renderer would take
// for HTML.
std::string Md(const std::string& s) {
  std::string out;
  for (char ch : s)
    if (ch == '|') out += "\\|";
    else if (ch == '\n') out += ' ';
    else if (const char* e = XmlEntity(ch, false)) out += e;
    else out += ch;
  return out;
}

std::string Html(const std::string& s) { return XmlEscape(s); }

}  // namespace

std::string RenderMarkdown(const Spec& spec, const Plan& plan, const RenderOptions& options,
                           const std::string& graph_svg) {
  Report r = Build(spec, plan, options);
  std::ostringstream out;
  out << "# " << r.title << "\n\n"
      << "- Spec: `" << spec.path << "` (sha256 `" << plan.spec_sha256.substr(0, 16) << "`)\n"
      << "- Planned: " << NowUtc() << "\n"
      << "- Summary: " << r.summary << "\n";
  if (!r.irreversible.empty()) {
    out << "\n**Cannot be undone** (needs `--allow-irreversible`):\n\n";
    for (const std::string& i : r.irreversible) out << "- " << Md(i) << "\n";
  }
  for (const Section& s : r.stages) {
    out << "\n## " << s.title << "\n\n";
    if (!s.confirm.empty()) out << "> Asks before it starts: " << Md(s.confirm) << "\n\n";
    if (s.rows.empty()) {
      out << "No changes.\n";
      continue;
    }
    out << "| | resource | changes | note |\n|---|---|---|---|\n";
    for (const Row& row : s.rows) {
      std::string changes;
      for (const std::string& c : row.changes) changes += (changes.empty() ? "" : "<br>") + Md(c);
      out << "| `" << row.symbol << "` | `" << row.address << "` | " << changes << " | " << Md(row.note) << " |\n";
    }
    for (const std::string& g : s.guards) out << "\n**Needs `--force`:** " << Md(g) << "\n";
  }
  if (!graph_svg.empty())
    out << "\n## Graph\n\n![dependency graph](data:image/svg+xml;base64," << Base64Encode(graph_svg) << ")\n";
  return out.str();
}

std::string RenderHtml(const Spec& spec, const Plan& plan, const RenderOptions& options, const std::string& graph_svg) {
  Report r = Build(spec, plan, options);
  std::ostringstream out;
  out << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" << Html(r.title) << "</title>\n"
      << "<style>body{font:14px sans-serif;margin:2em}table{border-collapse:collapse;margin:.5em 0}"
         "td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}"
         "code{font-family:monospace}.irreversible{background:#fdd}.confirm{color:#a60}</style>\n"
      << "</head><body>\n<h1>" << Html(r.title) << "</h1>\n<ul>\n"
      << "<li>Spec: <code>" << Html(spec.path) << "</code> (sha256 <code>" << Html(plan.spec_sha256.substr(0, 16))
      << "</code>)</li>\n<li>Planned: " << Html(NowUtc()) << "</li>\n<li>Summary: " << Html(r.summary)
      << "</li>\n</ul>\n";
  if (!r.irreversible.empty()) {
    out << "<p><strong>Cannot be undone</strong> (needs <code>--allow-irreversible</code>):</p>\n<ul>\n";
    for (const std::string& i : r.irreversible) out << "<li>" << Html(i) << "</li>\n";
    out << "</ul>\n";
  }
  for (const Section& s : r.stages) {
    out << "<h2>" << Html(s.title) << "</h2>\n";
    if (!s.confirm.empty()) out << "<p class=\"confirm\">Asks before it starts: " << Html(s.confirm) << "</p>\n";
    if (s.rows.empty()) {
      out << "<p>No changes.</p>\n";
      continue;
    }
    out << "<table>\n<tr><th></th><th>resource</th><th>changes</th><th>note</th></tr>\n";
    for (const Row& row : s.rows) {
      out << "<tr" << (row.irreversible ? " class=\"irreversible\"" : "") << "><td><code>" << Html(row.symbol)
          << "</code></td><td><code>" << Html(row.address) << "</code></td><td>";
      for (std::size_t i = 0; i < row.changes.size(); ++i) out << (i ? "<br>" : "") << Html(row.changes[i]);
      out << "</td><td>" << Html(row.note) << "</td></tr>\n";
    }
    out << "</table>\n";
    for (const std::string& g : s.guards) out << "<p><strong>Needs --force:</strong> " << Html(g) << "</p>\n";
  }
  if (!graph_svg.empty()) {
    // The SVG from Graphviz, without its XML prologue, inline.
    std::size_t at = graph_svg.find("<svg");
    out << "<h2>Graph</h2>\n" << (at == std::string::npos ? "" : graph_svg.substr(at)) << "\n";
  }
  out << "</body></html>\n";
  return out.str();
}

}  // namespace reconcile
