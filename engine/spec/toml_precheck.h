// A scan of spec text before toml++ reads it. toml++ 3.3.0 (Debian 12's) reaches an assert or
// __builtin_unreachable on a few invalid inputs: a non-ASCII character where only ASCII may
// stand (`version = 1 é`: upstream #190), and a table header whose key starts with something
// other than a key character (`[.x]`: #295); both fixed upstream in PR #305. Valid TOML passes
// untouched; these inputs get an error at their line and column instead.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace reconcile {

struct TomlPrecheckError {
  std::uint32_t line = 1;
  std::uint32_t column = 1;  // in characters, as toml++ counts them
  std::string message;
};

// Where a table header ("[a.b]" or "[[a]]") starts a line, outside any value.
struct TomlHeader {
  std::size_t offset = 0;  // of its '['
  std::uint32_t line = 1;
};

// `headers`, when given, gets every table header passed (toml_pieces.h splits the text there).
std::optional<TomlPrecheckError> PrecheckToml(std::string_view text, std::vector<TomlHeader>* headers = nullptr);

}  // namespace reconcile
