#include "engine/spec/toml_pieces.h"

#include <algorithm>

namespace reconcile {

namespace {

// The first two keys of a header such as [file."a-b".at.switch]; false for an array of tables
// or anything this reading does not follow (an escape in a quoted key): parsed whole then.
bool HeaderKeys(std::string_view text, std::size_t at, std::string_view keys[2], int* count) {
  std::size_t i = at + 1;
  if (i >= text.size() || text[i] == '[') return false;
  *count = 0;
  auto blank = [&] {
    while (i < text.size() && (text[i] == ' ' || text[i] == '\t')) ++i;
  };
  for (;;) {
    blank();
    if (i >= text.size()) return false;
    std::string_view key;
    char c = text[i];
    if (c == '"' || c == '\'') {
      std::size_t close = text.find_first_of(std::string_view(c == '"' ? "\"\\\n" : "'\n"), i + 1);
      if (close == std::string_view::npos || text[close] != c) return false;
      key = text.substr(i + 1, close - i - 1);
      i = close + 1;
    } else {
      std::size_t start = i;
      while (i < text.size() && ((text[i] >= 'a' && text[i] <= 'z') || (text[i] >= 'A' && text[i] <= 'Z') ||
                                 (text[i] >= '0' && text[i] <= '9') || text[i] == '_' || text[i] == '-'))
        ++i;
      if (i == start) return false;
      key = text.substr(start, i - start);
    }
    if (*count < 2) keys[*count] = key;
    ++*count;
    blank();
    if (i >= text.size()) return false;
    if (text[i] == ']') return true;
    if (text[i] != '.') return false;
    ++i;
  }
}

}  // namespace

std::optional<TomlSplit> SplitToml(std::string_view text, const std::vector<TomlHeader>& headers,
                                   std::size_t piece_bytes, const std::vector<std::string>& settings) {
  TomlSplit split;
  bool in_head = true;
  std::string_view last[2];
  for (const TomlHeader& h : headers) {
    std::string_view keys[2];
    int count = 0;
    if (!HeaderKeys(text, h.offset, keys, &count)) return std::nullopt;
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
