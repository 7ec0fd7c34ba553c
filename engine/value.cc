#include "engine/value.h"

#include <nlohmann/json.hpp>

#include "engine/hash.h"
#include "engine/shell_words.h"

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
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// JSON strings are UTF-8; file contents need not be. Such strings travel as base64 so the
// journal keeps every byte (rollback restores them exactly).
bool ValidUtf8(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t extra = c < 0x80 ? 0 : (c & 0xE0) == 0xC0 ? 1 : (c & 0xF0) == 0xE0 ? 2 : (c & 0xF8) == 0xF0 ? 3 : 9;
    if (extra == 9 || i + extra >= s.size() + (extra == 0)) return false;
    for (std::size_t k = 1; k <= extra; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    i += extra + 1;
  }
  return true;
}

nlohmann::json StringJson(const std::string& s) {
  if (ValidUtf8(s)) return s;
  return {{"$base64", Base64Encode(s)}};
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

std::string FormatCommand(const Value& v) {
  std::string text;
  if (const auto* l = std::get_if<StringList>(&v)) text = ShellCommand(*l);
  else if (const auto* s = std::get_if<std::string>(&v)) text = *s;
  else return FormatValue(v);
  if (!text.empty() && text.back() == '\n') text.pop_back();
  std::string out;
  std::size_t lines = 0, pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    if (lines < kShownScriptLines) out += (lines ? "\n" : "") + text.substr(pos, end - pos);
    ++lines;
    pos = end + 1;
  }
  if (lines > kShownScriptLines) {
    std::size_t more = lines - kShownScriptLines;
    out += "\n… " + std::to_string(more) + (more == 1 ? " more line" : " more lines");
  }
  return out;
}

nlohmann::json ToJson(const Value& v) {
  struct Visitor {
    nlohmann::json operator()(std::monostate) const { return nullptr; }
    nlohmann::json operator()(bool b) const { return b; }
    nlohmann::json operator()(std::int64_t i) const { return i; }
    nlohmann::json operator()(const std::string& s) const { return StringJson(s); }
    nlohmann::json operator()(const StringList& l) const {
      nlohmann::json out = nlohmann::json::array();
      for (const std::string& e : l) out.push_back(StringJson(e));
      return out;
    }
  };
  return std::visit(Visitor{}, v);
}

Value FromJson(const nlohmann::json& j) {
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_number_integer()) return j.get<std::int64_t>();
  if (j.is_string()) return j.get<std::string>();
  if (j.is_object() && j.contains("$base64") && j["$base64"].is_string()) {
    std::string bytes;
    if (Base64Decode(j["$base64"].get<std::string>(), &bytes)) return bytes;
  }
  if (j.is_array()) {
    StringList l;
    for (const auto& e : j) {
      Value v = FromJson(e);
      l.push_back(std::holds_alternative<std::string>(v) ? std::get<std::string>(v) : e.dump());
    }
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
