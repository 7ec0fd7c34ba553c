// ${...} in spec strings. `${vars.x}` is substituted when the spec loads; `${TYPE.NAME.attr}`
// stays until Desired() knows the stage, and becomes a graph edge. `$${` writes a literal `${`.
#pragma once

#include <string>
#include <vector>

#include "engine/result.h"

namespace reconcile {

struct Piece {
  bool is_ref = false;
  std::string text;        // literal text (unescaped), or the reference path "vars.x"
  std::size_t offset = 0;  // where it starts in the written string, for error columns
};

// Splits a written string into literal text and references. Fails on an unterminated ${.
Result<std::vector<Piece>> SplitRefs(const std::string& s);

// Writes literal text so that SplitRefs reads it back unchanged ("${" → "$${").
std::string EscapeLiteral(const std::string& s);

// Whether a string may hold references or escapes, and so needs SplitRefs at all.
inline bool MayInterpolate(const std::string& s) { return s.find("${") != std::string::npos; }

}  // namespace reconcile
