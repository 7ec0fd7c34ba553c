// toml++'s errors for what a spec writes twice, told in the spec's words: toml++ names neither
// where the first was written nor, for a quoted name, the name as written ("cannot redefine
// existing table 'file."ababc"'", "cannot redefine existing string 'path'").
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace reconcile {

// The header on `line` as written and the line of the first header of the same keys. "" when
// that is not what this reading can tell (no such header before it, an array of tables before
// it).
std::string TableWrittenTwice(std::string_view body, std::uint32_t line);

// The key written on `line`, the table it is in, and the line it was first written on, with
// the column of the key (toml++ points at the value). Nothing when this reading cannot tell
// (a value over several lines, an array of tables before it).
struct KeyTwice {
  std::string message;
  std::uint32_t column = 1;
};
std::optional<KeyTwice> KeyWrittenTwice(std::string_view body, std::uint32_t line);

}  // namespace reconcile
