#include "engine/value.h"

#include <nlohmann/json.hpp>

#include "engine/hash.h"

namespace reconcile {

namespace {

// Plans stay readable: strings this long or with a newline print as size and digest.
constexpr std::size_t kMaxInlineString = 72;

std::string Quote(const std::string& s) {
  // One line with its trailing newline still reads fine inline ("...\n").
  std::size_t newline = s.find('\n');
  bool one_line = newline == std::string::npos || newline == s.size() - 1;
  if (s.size() > kMaxInlineString || !one_line) {
    return "<" + std::to_string(s.size()) + " bytes, sha256 " + Sha256Hex(s).substr(0, 12) + ">";
  }
  return nlohmann::json(s).dump();
}

}  // namespace

std::string FormatValue(const Value& v) {
  struct Visitor {
    std::string operator()(std::monostate) const { return "(none)"; }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    std::string operator()(std::int64_t i) const { return std::to_string(i); }
    std::string operator()(const std::string& s) const { return Quote(s); }
    std::string operator()(const StringList& l) const {
      std::string out = "[";
      for (std::size_t i = 0; i < l.size(); ++i) {
        if (i) out += ", ";
        out += Quote(l[i]);
      }
      return out + "]";
    }
  };
  return std::visit(Visitor{}, v);
}

nlohmann::json ToJson(const Value& v) {
  struct Visitor {
    nlohmann::json operator()(std::monostate) const { return nullptr; }
    nlohmann::json operator()(bool b) const { return b; }
    nlohmann::json operator()(std::int64_t i) const { return i; }
    nlohmann::json operator()(const std::string& s) const { return s; }
    nlohmann::json operator()(const StringList& l) const { return l; }
  };
  return std::visit(Visitor{}, v);
}

Value FromJson(const nlohmann::json& j) {
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_number_integer()) return j.get<std::int64_t>();
  if (j.is_string()) return j.get<std::string>();
  if (j.is_array()) {
    StringList l;
    for (const auto& e : j) l.push_back(e.is_string() ? e.get<std::string>() : e.dump());
    return l;
  }
  return std::monostate{};
}

nlohmann::json ToJson(const AttrMap& attrs) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : attrs) j[k] = ToJson(v);
  return j;
}

AttrMap AttrMapFromJson(const nlohmann::json& j) {
  AttrMap m;
  for (auto it = j.begin(); it != j.end(); ++it) m[it.key()] = FromJson(it.value());
  return m;
}

}  // namespace reconcile
