#include "engine/spec/toml_twice.h"

#include <vector>

#include <toml++/toml.h>

#include "engine/spec/toml_pieces.h"

namespace reconcile {

namespace {

// Where `line` (1-based) starts in `body`, or npos.
std::size_t LineStart(std::string_view body, std::uint32_t line) {
  std::size_t at = 0;
  for (std::uint32_t n = 1; n < line && at != std::string_view::npos; ++n) {
    at = body.find('\n', at);
    if (at != std::string_view::npos) ++at;
  }
  return at;
}

// toml++ asserts on some malformed text (toml_precheck.h): only text that passes is parsed.
std::optional<toml::table> Parse(std::string_view text) {
  if (PrecheckToml(text)) return std::nullopt;
  try {
    return toml::parse(text);
  } catch (const toml::parse_error&) {
    return std::nullopt;
  }
}

}  // namespace

std::string TableWrittenTwice(std::string_view body, std::uint32_t line) {
  std::size_t at = LineStart(body, line);
  if (at == std::string_view::npos) return "";
  at = body.find_first_not_of(" \t", at);
  if (at == std::string_view::npos || body[at] != '[') return "";
  auto path = HeaderPath(body, at);
  std::vector<TomlHeader> headers;
  if (!path || PrecheckToml(body, &headers)) return "";
  // Its end: the ']' after its last key (a quoted key may hold one).
  const std::size_t last = static_cast<std::size_t>(path->back().data() - body.data()) + path->back().size();
  const std::size_t end = body.find(']', last);
  if (end == std::string_view::npos) return "";
  for (const TomlHeader& h : headers) {
    if (h.offset >= at) break;
    // Which element of an array of tables a header belongs to only the whole parse knows.
    if (body.compare(h.offset, 2, "[[") == 0) return "";
    if (HeaderPath(body, h.offset) == path)
      return "the table " + std::string(body.substr(at, end - at + 1)) + " is written twice; the first is on line " +
             std::to_string(h.line);
  }
  return "";
}

std::optional<KeyTwice> KeyWrittenTwice(std::string_view body, std::uint32_t line) {
  const std::size_t at = LineStart(body, line);
  if (at == std::string_view::npos) return std::nullopt;
  const std::size_t key_at = body.find_first_not_of(" \t", at);
  if (key_at == std::string_view::npos || body[key_at] == '[') return std::nullopt;
  // The key, dotted or not, read from its line alone: a value over several lines does not parse.
  std::size_t eol = body.find('\n', key_at);
  auto alone = Parse(body.substr(key_at, eol == std::string_view::npos ? std::string_view::npos : eol - key_at));
  if (!alone) return std::nullopt;
  std::vector<std::string> keys;
  for (const toml::table* t = &*alone; t && t->size() == 1;) {
    auto it = t->cbegin();
    keys.emplace_back(it->first.str());
    const toml::node& v = it->second;
    t = v.is_table() && !v.as_table()->is_inline() ? v.as_table() : nullptr;
  }
  if (keys.empty()) return std::nullopt;
  // The table it is written in: the last header before it.
  std::vector<TomlHeader> headers;
  if (PrecheckToml(body, &headers)) return std::nullopt;
  std::vector<std::string_view> table;
  std::string header;
  for (const TomlHeader& h : headers) {
    if (h.offset >= at) break;
    if (body.compare(h.offset, 2, "[[") == 0) return std::nullopt;
    auto path = HeaderPath(body, h.offset);
    if (!path) return std::nullopt;
    table = *path;
    const std::size_t last = static_cast<std::size_t>(table.back().data() - body.data()) + table.back().size();
    const std::size_t end = body.find(']', last);
    if (end == std::string_view::npos) return std::nullopt;
    header = std::string(body.substr(h.offset, end - h.offset + 1));
  }
  // Where the first was written: in what comes before this line, which parses.
  auto before = Parse(body.substr(0, at));
  if (!before) return std::nullopt;
  const toml::node* n = &*before;
  for (std::string_view k : table) n = n && n->is_table() ? n->as_table()->get(k) : nullptr;
  std::string name;
  for (const std::string& k : keys) {
    n = n && n->is_table() ? n->as_table()->get(k) : nullptr;
    name += (name.empty() ? "" : ".") + k;
  }
  if (!n || n->source().begin.line == 0) return std::nullopt;
  return KeyTwice{"the key '" + name + "' is written twice" + (header.empty() ? "" : " in " + header) +
                      "; the first is on line " + std::to_string(n->source().begin.line),
                  static_cast<std::uint32_t>(key_at - at + 1)};
}

}  // namespace reconcile
