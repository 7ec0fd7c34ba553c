// A large spec is parsed a piece at a time: toml++ builds a tree of the whole document, about
// ten times the text (a gigabyte for a million resources), while the loader needs one
// resource's table at a time. The text is cut only where that cannot change what TOML means:
// between two resources' tables, after every setting ([vars], [host.*], …), with no array of
// tables; any other spec is parsed whole.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/spec/toml_precheck.h"

namespace reconcile {

struct TomlPiece {
  std::size_t begin = 0, end = 0;  // in the text; each starts a line
  std::uint32_t line = 1;          // the line it starts on
};

struct TomlSplit {
  std::size_t head_end = 0;       // the settings: all before the first resource's table
  std::vector<TomlPiece> pieces;  // the resources' tables, about piece_bytes a piece
  std::size_t tables = 0;         // [TYPE.NAME] tables in the pieces
};

// The keys of the table header at `at` ([a."b c".d] → a, b c, d), as written; nothing for an
// array of tables, or a key this reading does not follow (an escape in a quoted key).
std::optional<std::vector<std::string_view>> HeaderPath(std::string_view text, std::size_t at);

// `headers` are the text's table headers (PrecheckToml); `settings` the top-level keys that
// are not resource types. Nothing when the text is one piece or must be parsed whole.
std::optional<TomlSplit> SplitToml(std::string_view text, const std::vector<TomlHeader>& headers,
                                   std::size_t piece_bytes, const std::vector<std::string>& settings);

}  // namespace reconcile
