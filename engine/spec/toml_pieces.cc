#include "engine/spec/toml_pieces.h"

#include <algorithm>

namespace reconcile {

std::optional<std::vector<std::string_view>> HeaderPath(std::string_view text, std::size_t at) {
  std::size_t i = at + 1;
  if (i >= text.size() || text[i] == '[') return std::nullopt;
  std::vector<std::string_view> keys;
  auto blank = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  };
  for (;;) {
    blank();
    if (i >= text.size()) return std::nullopt;
    char c = text[i];
    if (c == '"' || c == '\'') {
      std::size_t close = text.find_first_of(std::string_view(c == '"' ? "\"\\\n" : "'\n"), i + 1);
      if (close == std::string_view::npos || text[close] != c) return std::nullopt;
      keys.push_back(text.substr(i + 1, close - i - 1));
      i = close + 1;
    } else {
      std::size_t start = i;
      while (i < text.size() && ((text[i] >= 'a' && text[i] <= 'z') || (text[i] >= 'A' && text[i] <= 'Z') ||
                                 (text[i] >= '0' && text[i] <= '9') || text[i] == '_' || text[i] == '-'))
        ++i;
      if (i == start) return std::nullopt;
      keys.push_back(text.substr(start, i - start));
    }
    blank();
    if (i >= text.size()) return std::nullopt;
    if (text[i] == ']') return keys;
    if (text[i] != '.') return std::nullopt;
    ++i;
  }
}

std::optional<TomlSplit> SplitToml(std::string_view text, const std::vector<TomlHeader>& headers,
                                   std::size_t piece_bytes, const std::vector<std::string>& settings) {
  TomlSplit split;
  bool in_head = true;
  std::string_view last[2];
  for (const TomlHeader& h : headers) {
    auto path = HeaderPath(text, h.offset);
    if (!path) return std::nullopt;
    const std::size_t count = path->size();
    const std::string_view keys[2] = {(*path)[0], count > 1 ? (*path)[1] : std::string_view()};
    bool setting = std::find(settings.begin(), settings.end(), keys[0]) != settings.end();
    if (in_head && setting) continue;
    // A setting after a resource, or a table [TYPE] of its own, can join what comes before
    // it in ways only the whole document tells.
    if (setting || count < 2) return std::nullopt;
    std::size_t begin = h.offset;  // the start of its line: columns count from there
    while (begin > 0 && (text[begin - 1] == ' ' || text[begin - 1] == '\t')) --begin;
    if (in_head) {
      in_head = false;
      split.head_end = begin;
      split.pieces.push_back(TomlPiece{begin, text.size(), h.line});
    } else if (keys[0] == last[0] && keys[1] == last[1]) {
      continue;  // the same resource's tables stay in one piece
    } else if (begin - split.pieces.back().begin >= piece_bytes) {
      split.pieces.back().end = begin;
      split.pieces.push_back(TomlPiece{begin, text.size(), h.line});
    }
    last[0] = keys[0];
    last[1] = keys[1];
    ++split.tables;
  }
  if (split.pieces.size() < 2) return std::nullopt;
  return split;
}

}  // namespace reconcile
