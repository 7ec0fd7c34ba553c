#include "engine/journal/records.h"

namespace reconcile::journal {

namespace {

using nlohmann::json;

std::string Str(const json& d, const char* key) { return d.value(key, ""); }

std::vector<std::string> Names(const json& d, const char* key) {
  std::vector<std::string> out;
  if (d.contains(key) && d[key].is_array())
    for (const json& e : d[key])
      if (e.is_string()) out.push_back(e.get<std::string>());
  return out;
}

json State(const json& d, const char* key) { return d.contains(key) ? d[key] : json(); }

// A state taken out of the record, not copied.
json Take(json& d, const char* key) {
  auto it = d.find(key);
  return it == d.end() ? json() : std::move(*it);
}

Intent IntentOf(const json& d, json prior, json desired) {
  return Intent{Str(d, "op"),     Str(d, "stage"),  Str(d, "address"), Str(d, "type"),
                Str(d, "action"), std::move(prior), std::move(desired)};
}

Done DoneOf(const json& d, json state) {
  // A field of the wrong type reads as absent, never as an exception: the backends check
  // only the fields older readers needed (RecordShapeError).
  bool stays = d.contains("stays") && d["stays"].is_boolean() && d["stays"].get<bool>();
  Done x{Str(d, "op"), Str(d, "stage"), Str(d, "address"), std::move(state), std::nullopt, stays};
  if (d.contains("closes") && d["closes"].is_number_unsigned()) x.closes = d["closes"].get<std::uint64_t>();
  return x;
}

// Takes the entry's states rather than copying them: an apply's intents and outcomes are
// thousands of them, made only to be written.
struct ToRecord {
  JournalRecord operator()(const Begin& b) const {
    json d = {{"op", b.op}, {"spec_sha256", b.spec_sha256}};
    if (b.op == "apply") d["through"] = b.through;
    else d.update({{"to", b.to}, {"undo", b.undo}});
    d["holder"] = b.holder;
    if (!b.env.empty()) d["env"] = b.env;
    return {0, "", "begin", std::move(d)};
  }
  // A step's data begun: set key by key, as the rest is (a braced list of pairs makes each
  // pair an array first).
  static json StepData(const std::string& op, const std::string& stage, const std::string& address) {
    json d = json::object();
    d["op"] = op;
    d["stage"] = stage;
    d["address"] = address;
    return d;
  }
  JournalRecord operator()(Intent& i) const {
    json d = StepData(i.op, i.stage, i.address);
    d["type"] = i.type;
    d["action"] = i.action;
    d["prior"] = std::move(i.prior);
    d["desired"] = std::move(i.desired);
    return {0, "", "intent", std::move(d)};
  }
  JournalRecord operator()(Done& x) const {
    json d = StepData(x.op, x.stage, x.address);
    d["state"] = std::move(x.state);
    if (x.closes) d["closes"] = *x.closes;
    if (x.stays) d["stays"] = true;
    return {0, "", "done", std::move(d)};
  }
  JournalRecord operator()(const Failed& f) const {
    return {0, "", "failed", {{"op", f.op}, {"stage", f.stage}, {"address", f.address}, {"error", f.error}}};
  }
  JournalRecord operator()(const StageComplete& s) const { return {0, "", "stage_complete", {{"stage", s.stage}}}; }
  JournalRecord operator()(const RollbackComplete& c) const {
    return {0, "", "rollback_complete", {{"to", c.to}, {"undone", c.undone}}};
  }
  JournalRecord operator()(const End& e) const { return {0, "", "end", {{"op", e.op}, {"result", e.result}}}; }
};

}  // namespace

JournalRecord Encode(Entry e) { return std::visit(ToRecord{}, e); }

std::optional<Entry> Decode(const JournalRecord& r) {
  const json& d = r.data;
  if (!d.is_object()) return std::nullopt;
  if (r.kind == "begin")
    return Begin{Str(d, "op"), Str(d, "spec_sha256"), Str(d, "holder"), Str(d, "through"),
                 Str(d, "to"), Names(d, "undo"),      Str(d, "env")};
  if (r.kind == "intent") return IntentOf(d, State(d, "prior"), State(d, "desired"));
  if (r.kind == "done") return DoneOf(d, State(d, "state"));
  if (r.kind == "failed") return Failed{Str(d, "op"), Str(d, "stage"), Str(d, "address"), Str(d, "error")};
  if (r.kind == "stage_complete") return StageComplete{Str(d, "stage")};
  if (r.kind == "rollback_complete") return RollbackComplete{Str(d, "to"), Names(d, "undone")};
  if (r.kind == "end") return End{Str(d, "op"), Str(d, "result")};
  return std::nullopt;
}

std::optional<Entry> Decode(JournalRecord&& r) {
  json& d = r.data;
  if (d.is_object() && r.kind == "intent") {
    json prior = Take(d, "prior"), desired = Take(d, "desired");
    return IntentOf(d, std::move(prior), std::move(desired));
  }
  if (d.is_object() && r.kind == "done") {
    json state = Take(d, "state");
    return DoneOf(d, std::move(state));
  }
  return Decode(static_cast<const JournalRecord&>(r));
}

}  // namespace reconcile::journal
