// The plan as an operator reviews it: a diff per stage, one line per step.
#include <algorithm>
#include <set>

#include "engine/plan/plan.h"

namespace reconcile {

namespace {

std::string Shown(const AttrChange& c, const Value& v) {
  if (IsNull(v)) return "(none)";
  if (c.sensitive) return "(sensitive)";
  std::string shown = FormatValue(v);
  // Where the value goes when it shows whole; alone where it would be a digest, which says
  // less, or where it is the whole value (not a string the spec wrote).
  if (c.known_after_apply && &v == &c.new_value &&
      (shown.find(kKnownAfterApply) == std::string::npos || v == Value(std::string(kKnownAfterApply))))
    return kKnownAfterApply;
  return shown;
}

// A table ({ NAME = "value" }) with each secret entry hidden on its own, so the names show.
std::string TableText(const Value& v, const std::set<std::string>& hidden, bool all_hidden) {
  const auto* l = std::get_if<StringList>(&v);
  if (!l) return all_hidden ? "(sensitive)" : FormatValue(v);
  std::string out;
  for (const std::string& e : *l) {
    std::size_t eq = e.find('=');
    std::string name = e.substr(0, eq);
    bool secret = all_hidden && (hidden.empty() || hidden.count(name));
    out += (out.empty() ? "{ " : ", ") + name + " = " +
           (secret ? "(sensitive)" : FormatValue(eq == std::string::npos ? "" : e.substr(eq + 1)));
  }
  return out.empty() ? "{}" : out + " }";
}

std::string Plural(std::size_t n, const char* one, const char* many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

}  // namespace

std::string CheckSummary(const Spec& spec, const Resource& r, const AttrMap& attrs) {
  if (!r.schema->summary) return "";
  AttrMap shown;
  for (const auto& [name, v] : attrs)
    if (!IsSensitive(spec, r, name)) shown.emplace(name, v);
  return r.schema->summary(shown);
}

std::string ChangeText(const Step& step, const AttrChange& c) {
  if (!c.summary().empty()) return c.summary();
  if (step.action == Action::kCreate) return Shown(c, c.new_value);
  return Shown(c, c.old_value) + " → " + Shown(c, c.new_value);
}

std::string ChangeText(const Spec& spec, const Step& step, const AttrChange& c) {
  const Resource& r = spec.resources[step.resource];
  const AttrSchema* a = r.schema->Find(c.name);
  if (!c.summary().empty() || !a || (a->type != AttrType::kArgv && a->type != AttrType::kStringMap))
    return ChangeText(step, c);
  auto shown = [&](const Value& v) -> std::string {
    if (IsNull(v)) return "(none)";
    if (a->type == AttrType::kStringMap) return TableText(v, SensitiveEntries(spec, r, c.name), c.sensitive);
    return c.sensitive ? "(sensitive)" : FormatCommand(v);
  };
  if (step.action == Action::kCreate) return shown(c.new_value);
  std::string before = shown(c.old_value), after = shown(c.new_value);
  // A script of several lines reads better with the new one below the old.
  bool long_form = before.find('\n') != std::string::npos || after.find('\n') != std::string::npos;
  return before + (long_form ? "\n→\n" : " → ") + after;
}

const char* ActionSymbol(Action a) {
  switch (a) {
    case Action::kCreate:
      return "+";
    case Action::kUpdate:
      return "~";
    case Action::kDelete:
      return "-";
    case Action::kCheck:
      return "?";
    case Action::kNone:
      return "=";
  }
  return "=";
}

std::string IrreversibleSteps(const Spec& spec, const Plan& plan) {
  std::string out;
  for (const StagePlan& sp : plan.stages)
    for (const Step& s : sp.steps)
      if (s.irreversible)
        out += "\n  " + spec.stages[sp.stage].name + ": " + spec.resources[s.resource].address + " (" +
               s.irreversible_reason + ")";
  return out;
}

std::string CompleteStageNote(const Spec& spec, const Plan& plan, const RenderOptions& options) {
  // A stage before the first one planned is complete, and a complete stage is not compared
  // again: "no changes" would say the world matches what was not looked at.
  if (!options.only_stage || options.rollback || plan.stages.empty() ||
      *options.only_stage >= plan.stages.front().stage)
    return "";
  const std::string& from = spec.stages[plan.stages.front().stage].name;
  return "Stage '" + spec.stages[*options.only_stage].name +
         "' is complete, and a complete stage is not planned again: the world is compared with the spec from stage '" +
         from + "' on (plan --stage " + from + ").";
}

std::string RenderText(const Spec& spec, const Plan& plan, const RenderOptions& options) {
  std::string out = options.title.empty() ? "Plan for " + spec.name + " (" + spec.path + ")\n" : options.title + "\n";
  for (const StagePlan& sp : plan.stages) {
    if (options.only_stage && *options.only_stage != sp.stage) continue;
    const StageSpec& stage = spec.stages[sp.stage];
    out += (options.rollback ? "\nback to the end of stage " : "\nstage ") + stage.name;
    if (!stage.confirm.empty() && !options.rollback) out += "  (asks before it starts: " + stage.confirm + ")";
    if (sp.steps.empty()) {
      out += ": no changes\n";
      continue;
    }
    out += "\n";
    for (const Step& step : sp.steps) {
      const Resource& r = spec.resources[step.resource];
      out += std::string("  ") + (step.irreversible ? "!" : " ") + ActionSymbol(step.action) + " " + r.address;
      if (step.action == Action::kCheck) out += "  " + CheckSummary(spec, r, step.desired.attrs);
      if (step.action == Action::kNone) out += "  " + step.reason;  // shown, not run: a step that stays
      if (step.irreversible) out += "  (irreversible: " + step.irreversible_reason + ")";
      out += "\n";
      std::size_t width = 0;
      ChangeList changes = step.changes();
      for (const AttrChange& c : changes) width = std::max(width, c.name.size());
      for (const AttrChange& c : changes) {
        out += "        " + c.name + ":" + std::string(width - c.name.size() + 1, ' ');
        // Several lines (a script) continue under the first, at the value's column.
        std::string text = ChangeText(spec, step, c), indent = "\n" + std::string(8 + width + 2, ' ');
        for (std::size_t at = text.find('\n'); at != std::string::npos; at = text.find('\n', at + indent.size()))
          text.replace(at, 1, indent);
        out += text + "\n";
        if (options.explain)
          for (const std::string& d : c.details()) out += "          " + d + "\n";
      }
      if (options.explain) {
        out += "        why: " + StepReason(spec, step) + "\n";
        if (!step.after.empty()) {
          std::string after;
          for (std::size_t d : step.after) after += (after.empty() ? "" : ", ") + spec.resources[d].address;
          out += "        after: " + after + "\n";
        }
      }
    }
    for (const std::string& g : sp.guards) out += "  ! needs --force: " + g + "\n";
  }
  // The summary counts what was shown: the whole plan, or the one stage asked for.
  PlanCounts c = plan.Counts(options.only_stage);
  out += "\n";
  if (std::string complete = CompleteStageNote(spec, plan, options); !complete.empty()) {
    out += complete + "\n";
  } else if (c.changes() == 0) {
    out += "No changes: the world matches the spec";
    if (c.check) out += "; " + Plural(c.check, "check", "checks") + " would run";
    out += ".\n";
  } else {
    out += "Plan: " + std::to_string(c.create) + " to create, " + std::to_string(c.update) + " to update, " +
           std::to_string(c.remove) + " to delete, " + Plural(c.check, "check", "checks") + ", " +
           std::to_string(c.irreversible) + " irreversible.\n";
  }
  if (!options.apply_stops.empty()) out += "But apply will stop before anything: " + options.apply_stops + ".\n";
  return out;
}

}  // namespace reconcile
