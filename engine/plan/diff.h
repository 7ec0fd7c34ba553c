// Attribute-by-attribute comparison of what is (or was planned before) with what should be.
// Only attributes the spec sets are compared: an attribute the spec leaves out is not managed.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/provider.h"

namespace reconcile {

struct AttrChange {
  std::string name;
  Value old_value;
  Value new_value;
  bool sensitive = false;
  bool known_after_apply = false;  // new_value refers to what exists only once applied
  // When set, shown instead of old → new ("12 objects, 48 KiB"), with what it counts (the keys)
  // shown with --explain. Few changes have one: kept apart, shared between copies, so the
  // million changes of a large plan carry a pointer rather than an empty string and list.
  struct Note {
    std::string summary;
    std::vector<std::string> details;
  };
  std::shared_ptr<const Note> note;

  const std::string& summary() const;
  const std::vector<std::string>& details() const;
  void set_summary(std::string summary);
  void set_details(std::vector<std::string> details);

 private:
  Note& OwnNote();
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
