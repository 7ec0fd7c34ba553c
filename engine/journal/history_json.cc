// The summary as JSON, for a checkpoint (checkpoint.h): written and read by the same
// reconcile only (a checkpoint names the version that wrote it), so it needs no compatibility
// of its own; anything unexpected makes it unread, and the journal is read whole instead.
#include "engine/journal/history.h"

#include <algorithm>
#include <stdexcept>

#include "engine/hash.h"

namespace reconcile {

namespace {

using nlohmann::json;

// The states as WriteJson writes them: each [offset, length] of its text in `states`, one after
// another in the order they are read here, which is the order they were written; each parsed
// when first read (stored_json.h). Anything else throws, and the journal is read instead: a
// state read from the wrong place would be taken for what was there.
class StatesReader {
 public:
  explicit StatesReader(std::string_view states) : states_(states) {}
  StoredJson Read(const json& j) {
    std::size_t at = j.at(0).get<std::size_t>(), size = j.at(1).get<std::size_t>();
    if (j.size() != 2 || at != next_ || size == 0 || size > states_.size() - at)
      throw std::out_of_range("a state not where the checkpoint's states go on");
    next_ = at + size;
    return StoredJson::FromText(std::string(states_.substr(at, size)));
  }
  bool AllRead() const { return next_ == states_.size(); }

 private:
  std::string_view states_;
  std::size_t next_ = 0;
};

template <typename T>
std::optional<T> DecodeAs(const char* kind, const json& data) {
  auto entry = journal::Decode(JournalRecord{0, "", kind, data});
  if (!entry || !std::holds_alternative<T>(*entry)) return std::nullopt;
  return std::get<T>(*entry);
}

}  // namespace

namespace {

// Written piece by piece: a summary holds a state or three of every resource, and building
// it as one JSON value first copied them all.
class Writer {
 public:
  Writer(std::string* out, std::string* states) : out_(*out), states_(*states) {}
  Writer& Raw(std::string_view s) {
    out_ += s;
    return *this;
  }
  // A plain ASCII string (addresses, stage names) as it is; any other as JSON escapes it.
  Writer& Str(const std::string& s) {
    bool plain = std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\'; });
    if (!plain) return Raw(json(s).dump());
    out_ += '"';
    out_ += s;
    out_ += '"';
    return *this;
  }
  Writer& Val(const json& v) { return Raw(v.dump()); }
  Writer& Num(std::uint64_t n) { return Raw(std::to_string(n)); }
  Writer& Key(const std::string& k) { return Str(k).Raw(":"); }
  Writer& State(const StoredJson& s) {
    std::size_t at = states_.size();
    s.AppendText(&states_);
    return Raw("[").Num(at).Raw(",").Num(states_.size() - at).Raw("]");
  }

 private:
  std::string& out_;
  std::string& states_;
};

}  // namespace

void HistoryFold::WriteJson(std::string* out, std::string* states) const {
  Writer w(out, states);
  w.Raw("{").Key("complete").Val(h_->complete).Raw(",").Key("resources").Raw("{");
  const char* sep = "";
  for (const auto& [address, r] : h_->resources) {
    // [type, steps, last_state, last_op, last_done, last_desired, applied, rolled_back]: a
    // thousand resources' keys named each time were a third of reading the summary.
    w.Raw(sep).Key(address).Raw("[").Str(r.type).Raw(",[");
    const char* step_sep = "";
    for (const StepHistory& s : r.steps) {
      w.Raw(step_sep).Raw("[").Num(s.seq).Raw(",").Str(s.op).Raw(",").Str(s.stage).Raw(",").State(s.prior);
      w.Raw("]");
      step_sep = ",";
    }
    w.Raw("],").State(r.last_state).Raw(",").Str(r.last_op).Raw(",").Num(r.last_done).Raw(",");
    w.State(r.last_desired).Raw(",").Val(r.applied_stages).Raw(",").Raw(r.rolled_back ? "true" : "false").Raw("]");
    sep = ",";
  }
  w.Raw("},").Key("open").Raw("{");
  sep = "";
  for (const auto& [address, p] : open_) {
    // [seq, op, stage, action, at, desired]
    w.Raw(sep).Key(address).Raw("[").Num(p.seq).Raw(",").Str(p.op).Raw(",").Str(p.stage).Raw(",");
    w.Str(p.action).Raw(",").Str(p.at).Raw(",").State(p.desired).Raw("]");
    sep = ",";
  }
  w.Raw("},").Key("qualifying").Raw("{");
  sep = "";
  for (const auto& [address, numbers] : qualifying_) {
    w.Raw(sep).Key(address).Val(numbers);
    sep = ",";
  }
  w.Raw("},").Key("changes_seen").Raw("{");
  sep = "";
  for (const auto& [address, by_stage] : h_->changes_seen) {
    w.Raw(sep).Key(address).Raw("{");
    const char* stage_sep = "";
    for (const auto& [stage, c] : by_stage) {
      w.Raw(stage_sep).Key(stage).Raw("[").Num(c.seq).Raw(",").Str(c.at).Raw(",").Val(c.prior_numbers).Raw("]");
      stage_sep = ",";
    }
    w.Raw("}");
    sep = ",";
  }
  w.Raw("},").Key("after_rollback").Raw(after_rollback_ ? "true" : "false").Raw(",");
  w.Key("rollback_targets").Val(h_->rollback_targets).Raw(",").Key("last_seq").Num(h_->last_seq).Raw(",");
  w.Key("salt").Str(Base64Encode(h_->salt)).Raw(",");  // bytes
  w.Key("last_failure_at").Str(h_->last_failure_at);
  if (h_->last_failure) w.Raw(",").Key("last_failure").Val(journal::Encode(*h_->last_failure).data);
  if (h_->last_begin) {
    w.Raw(",").Key("last_begin").Raw("[").Val(journal::Encode(*h_->last_begin).data).Raw(",");
    w.Str(h_->last_begin_at).Raw("]");
  }
  w.Raw(",").Key("last_rollback_finished").Raw(h_->last_rollback_finished ? "true" : "false");
  w.Raw(",").Key("last_end").Str(h_->last_end);
  w.Raw("}");
}

std::optional<HistoryFold> HistoryFold::FromJson(nlohmann::json&& j, std::string_view states) {
  try {
    StatesReader stored(states);
    HistoryFold f;
    History& h = *f.h_;
    h.complete = j.at("complete").get<std::set<std::string>>();
    for (auto& [address, r] : j.at("resources").items()) {
      if (r.size() != 8) return std::nullopt;
      ResourceHistory& res = h.resources[address];
      res.type = r.at(0).get<std::string>();
      for (json& s : r.at(1))
        res.steps.push_back({s.at(0).get<std::uint64_t>(), s.at(1).get<std::string>(), s.at(2).get<std::string>(),
                             stored.Read(s.at(3))});
      res.last_state = stored.Read(r.at(2));
      res.last_op = r.at(3).get<std::string>();
      res.last_done = r.at(4).get<std::uint64_t>();
      res.last_desired = stored.Read(r.at(5));
      res.applied_stages = r.at(6).get<std::set<std::string>>();
      res.rolled_back = r.at(7).get<bool>();
    }
    for (auto& [address, p] : j.at("open").items()) {
      if (p.size() != 6) return std::nullopt;
      f.open_[address] =
          PendingStep{p.at(0).get<std::uint64_t>(), p.at(1).get<std::string>(), p.at(2).get<std::string>(), address,
                      p.at(3).get<std::string>(),   p.at(4).get<std::string>(), stored.Read(p.at(5))};
    }
    for (auto& [address, numbers] : j.at("qualifying").items()) f.qualifying_[address] = std::move(numbers);
    f.after_rollback_ = j.at("after_rollback").get<bool>();
    h.rollback_targets = j.at("rollback_targets").get<std::vector<std::vector<std::string>>>();
    h.last_seq = j.at("last_seq").get<std::uint64_t>();
    if (!Base64Decode(j.at("salt").get<std::string>(), &h.salt)) return std::nullopt;
    for (auto& [address, by_stage] : j.at("changes_seen").items())
      for (auto& [stage, c] : by_stage.items())
        h.changes_seen[address][stage] =
            ChangeSeen{c.at(0).get<std::uint64_t>(), c.at(1).get<std::string>(), std::move(c.at(2))};
    h.last_failure_at = j.at("last_failure_at").get<std::string>();
    if (j.contains("last_failure")) {
      h.last_failure = DecodeAs<journal::Failed>("failed", j["last_failure"]);
      if (!h.last_failure) return std::nullopt;
    }
    if (j.contains("last_begin")) {
      h.last_begin = DecodeAs<journal::Begin>("begin", j["last_begin"].at(0));
      if (!h.last_begin) return std::nullopt;
      h.last_begin_at = j["last_begin"].at(1).get<std::string>();
    }
    h.last_rollback_finished = j.at("last_rollback_finished").get<bool>();
    h.last_end = j.at("last_end").get<std::string>();
    if (!stored.AllRead()) return std::nullopt;  // states no summary entry is
    return f;
  } catch (const nlohmann::json::exception&) {
    return std::nullopt;  // not what this reconcile writes: read the journal instead
  } catch (const std::out_of_range&) {
    return std::nullopt;
  }
}

}  // namespace reconcile
