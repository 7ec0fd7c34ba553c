// An attribute value as the spec, the providers and the journal all see it: nothing,
// a bool, an integer, a string, or a list of strings. Small on purpose: every provider
// speaks it, and every one of these has one obvious JSON and one obvious TOML form.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "engine/flat_map.h"
#include "engine/sparse_vector.h"

namespace reconcile {

using StringList = std::vector<std::string>;
using Value = std::variant<std::monostate, bool, std::int64_t, std::string, StringList>;
using AttrMap = FlatMap<std::string, Value>;

inline bool IsNull(const Value& v) { return v.index() == 0; }
inline const std::string* AsString(const Value& v) { return std::get_if<std::string>(&v); }

// attrs[key] as a string, or `fallback` when it is not set (or not a string).
inline std::string StringAttr(const AttrMap& attrs, const std::string& key, const std::string& fallback = "") {
  auto it = attrs.find(key);
  const std::string* s = it == attrs.end() ? nullptr : AsString(it->second);
  return s ? *s : fallback;
}

// attrs[key] as a string, or none when it is not set (or not a string): "" set differs from unset.
inline std::optional<std::string> OptionalString(const AttrMap& attrs, const std::string& key) {
  auto it = attrs.find(key);
  const std::string* s = it == attrs.end() ? nullptr : AsString(it->second);
  return s ? std::optional<std::string>(*s) : std::nullopt;
}

// attrs[key] as a list of strings; empty when it is not set (or not a list).
inline StringList ListAttr(const AttrMap& attrs, const std::string& key) {
  auto it = attrs.find(key);
  const StringList* l = it == attrs.end() ? nullptr : std::get_if<StringList>(&it->second);
  return l ? *l : StringList{};
}

// attrs[key] as an integer or a bool, or none when it is not set (or not of that type).
inline std::optional<std::int64_t> IntAttr(const AttrMap& attrs, const std::string& key) {
  auto it = attrs.find(key);
  const std::int64_t* n = it == attrs.end() ? nullptr : std::get_if<std::int64_t>(&it->second);
  return n ? std::optional<std::int64_t>(*n) : std::nullopt;
}
inline std::optional<bool> BoolAttr(const AttrMap& attrs, const std::string& key) {
  auto it = attrs.find(key);
  const bool* b = it == attrs.end() ? nullptr : std::get_if<bool>(&it->second);
  return b ? std::optional<bool>(*b) : std::nullopt;
}

// How a value reads in a plan: strings quoted, lists bracketed, long or multi-line strings
// shortened to their size and hash so a plan stays one screen per step.
std::string FormatValue(const Value& v);

// How a command reads in a plan: an argv list as one sh line, quoted as sh would need it
// (Python's shlex.join), a shell line as written. A script of several lines comes back as
// several lines — the first kShownScriptLines, then "… N more lines" — for the caller to indent.
constexpr std::size_t kShownScriptLines = 10;
std::string FormatCommand(const Value& v);

nlohmann::json ToJson(const Value& v);
Value FromJson(const nlohmann::json& j);
nlohmann::json ToJson(const AttrMap& attrs);
AttrMap AttrMapFromJson(const nlohmann::json& j);

// What the world holds for one resource: whether it exists, and its attributes.
// A provider's private data (State::private_data), kept out of line: most states have none,
// and a plan copies and keeps a State many times over (an inline string cost 4% of the peak
// memory of a 100k-resource plan).
class PrivateData {
 public:
  PrivateData() = default;
  PrivateData(std::string s) { *this = std::move(s); }         // NOLINT: a string is private data
  PrivateData(const char* s) : PrivateData(std::string(s)) {}  // NOLINT
  PrivateData(const PrivateData& o) : p_(o.p_ ? std::make_unique<std::string>(*o.p_) : nullptr) {}
  PrivateData(PrivateData&&) noexcept = default;
  PrivateData& operator=(const PrivateData& o) {
    if (this != &o) p_ = o.p_ ? std::make_unique<std::string>(*o.p_) : nullptr;
    return *this;
  }
  PrivateData& operator=(PrivateData&&) noexcept = default;
  PrivateData& operator=(std::string s) {
    p_ = s.empty() ? nullptr : std::make_unique<std::string>(std::move(s));
    return *this;
  }
  bool empty() const { return !p_; }
  const std::string& str() const {
    static const std::string kNone;
    return p_ ? *p_ : kNone;
  }
  void clear() { p_.reset(); }
  bool operator==(const PrivateData& o) const { return str() == o.str(); }

 private:
  std::unique_ptr<std::string> p_;
};

struct State {
  bool exists = false;
  AttrMap attrs;
  // What only its provider reads, kept beside the state (Terraform's Private): a sync's object
  // lists, say. Never diffed or shown; journaled with the state as it is, so it must hold no
  // secret; handed back to the provider in Change::prior and, for a rollback, in
  // Target::desired_private. "" when the provider keeps none.
  PrivateData private_data;
  // Attributes that refer to what a resource will be only once it exists (a computed
  // attribute, AttrSchema::computed, of one not made yet): their text says "(known after
  // apply)" where the value goes. A plan shows them; the executor works them out again before
  // any provider is handed them. Empty in anything probed or journaled (and out of line: a
  // million states held an empty vector each).
  SparseVector<std::string> unknown;
  bool Unknown(const std::string& attr) const {
    for (const std::string& a : unknown)
      if (a == attr) return true;
    return false;
  }
};

// The text a reference to a computed attribute stands as while it is not known.
inline constexpr char kKnownAfterApply[] = "(known after apply)";

}  // namespace reconcile
