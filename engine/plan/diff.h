// Attribute-by-attribute comparison of what is (or was planned before) with what should be.
// Only attributes the spec sets are compared: an attribute the spec leaves out is not managed.
#pragma once

#include <string>
#include <vector>

#include "engine/provider.h"

namespace reconcile {

struct AttrChange {
  std::string name;
  Value old_value;
  Value new_value;
  bool sensitive = false;
};

struct Diff {
  Action action = Action::kNone;
  std::vector<AttrChange> changes;  // for a create: every attribute set; for an update: what differs
  bool irreversible = false;
  std::string irreversible_reason;
};

Diff Compare(const TypeSchema& schema, const State& prior, const State& desired);

// Equality as the schema sees it (unordered lists compare as sets).
bool SameValue(const AttrSchema* attr, const Value& a, const Value& b);

}  // namespace reconcile
