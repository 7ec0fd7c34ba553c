// The plan as JSON (docs/plan-json.md). Also the saved plan file: it carries the spec's hash
// and the journal's sequence number so a stale plan is refused.
#include <filesystem>

#include <nlohmann/json.hpp>

#include "engine/plan/plan.h"

namespace reconcile {

std::string RenderJson(const Spec& spec, const Plan& plan, const RenderOptions& options) {
  using nlohmann::json;
  json doc;
  doc["format_version"] = 1;
  doc["spec"] = {{"name", spec.name},
                 {"path", spec.path},
                 {"file", std::filesystem::absolute(spec.path).lexically_normal().string()},
                 {"env", spec.options.env},
                 {"vars", spec.options.vars},
                 {"sha256", plan.spec_sha256}};
  doc["journal_seq"] = plan.journal_seq;
  json stages = json::array();
  for (const StagePlan& sp : plan.stages) {
    if (options.only_stage && *options.only_stage != sp.stage) continue;
    const StageSpec& stage = spec.stages[sp.stage];
    json js = {{"name", stage.name}, {"steps", json::array()}};
    js["confirm"] = stage.confirm.empty() ? json(nullptr) : json(stage.confirm);
    for (const Step& step : sp.steps) {
      const Resource& r = spec.resources[step.resource];
      json j = {{"address", r.address},
                {"type", r.type},
                {"action", ActionName(step.action)},
                {"irreversible", step.irreversible},
                {"reason", StepReason(spec, step)}};
      if (step.irreversible) j["irreversible_reason"] = step.irreversible_reason;
      json after = json::array();
      for (std::size_t d : step.after) after.push_back(spec.resources[d].address);
      j["after"] = after;
      json changes = json::array();
      for (const AttrChange& c : step.changes()) {
        json jc = {{"attribute", c.name}, {"sensitive", c.sensitive}};
        jc["old"] = c.sensitive ? json(nullptr) : ToJson(c.old_value);
        jc["new"] = c.sensitive || c.known_after_apply ? json(nullptr) : ToJson(c.new_value);
        if (c.known_after_apply) jc["known_after_apply"] = true;
        jc["text"] = ChangeText(spec, step, c);  // as the text plan shows it, secrets hidden
        if (!c.summary().empty()) jc["summary"] = c.summary();
        if (!c.details().empty()) jc["details"] = c.details();
        changes.push_back(std::move(jc));
      }
      j["changes"] = std::move(changes);
      js["steps"].push_back(std::move(j));
    }
    js["guards"] = sp.guards;
    stages.push_back(std::move(js));
  }
  doc["stages"] = std::move(stages);
  PlanCounts c = plan.Counts(options.only_stage);
  doc["summary"] = {{"create", c.create},
                    {"update", c.update},
                    {"delete", c.remove},
                    {"check", c.check},
                    {"irreversible", c.irreversible},
                    {"changes", c.changes()}};
  if (!options.apply_stops.empty()) doc["apply_stops"] = options.apply_stops;
  if (!options.reviewed_stage.empty()) doc["reviewed_stage"] = options.reviewed_stage;
  return doc.dump(2) + "\n";
}

}  // namespace reconcile
