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
  bool known_after_apply = false;    // new_value refers to what exists only once applied
  std::string summary;               // when set, shown instead of old → new ("12 objects, 48 KiB")
  std::vector<std::string> details;  // what the summary counts, shown with --explain (the keys)
};

struct Diff {
  Action action = Action::kNone;
  std::vector<AttrChange> changes;  // for a create: every attribute set; for an update: what differs
  bool irreversible = false;
  std::string irreversible_reason;

  // The change to `attr` in an update, or nullptr: what a provider's Review looks at.
  const AttrChange* Update(const std::string& attr) const;
  // Takes the change to `attr` out (the provider finds both values the same thing); an update
  // left with nothing to change is no step at all.
  void Drop(const std::string& attr);
};

Diff Compare(const TypeSchema& schema, const State& prior, const State& desired);

// Equality as the schema sees it (unordered lists compare as sets).
bool SameValue(const AttrSchema* attr, const Value& a, const Value& b);

}  // namespace reconcile
