#include "engine/plan/diff.h"

#include <algorithm>

namespace reconcile {

bool SameValue(const AttrSchema* attr, const Value& a, const Value& b) {
  if (attr && attr->unordered) {
    const auto* la = std::get_if<StringList>(&a);
    const auto* lb = std::get_if<StringList>(&b);
    if (la && lb) {
      StringList x = *la, y = *lb;
      std::sort(x.begin(), x.end());
      std::sort(y.begin(), y.end());
      return x == y;
    }
  }
  return a == b;
}

Diff Compare(const TypeSchema& schema, const State& prior, const State& desired) {
  Diff d;
  if (!desired.exists) {
    if (!prior.exists) return d;
    d.action = Action::kDelete;
    if (schema.delete_irreversible) {
      d.irreversible = true;
      d.irreversible_reason = "deleting a " + schema.name + " loses what cannot be put back";
    }
    return d;
  }
  if (!prior.exists) {
    d.action = Action::kCreate;
    d.changes.reserve(desired.attrs.size());
    for (const auto& [name, v] : desired.attrs) {
      const AttrSchema* a = schema.Find(name);
      // A journaled state holds what was read (an endpoint); nothing makes it.
      if (!IsNull(v) && !(a && a->computed)) d.changes.push_back({name, std::monostate{}, v});
    }
    return d;
  }
  for (const auto& [name, v] : desired.attrs) {
    if (IsNull(v)) continue;
    auto it = prior.attrs.find(name);
    Value old = it == prior.attrs.end() ? Value{} : it->second;
    const AttrSchema* a = schema.Find(name);
    // Identity attributes are how the resource was found and settings how it is handled;
    // neither is state that can differ.
    // Computed ones are what the world made of the rest, never asked for.
    if ((a && (a->identity || a->setting || a->computed)) || SameValue(a, old, v)) continue;
    d.changes.push_back({name, old, v});
    if (a && a->irreversible && !d.irreversible) {
      d.irreversible = true;
      d.irreversible_reason = "changing '" + name + "' of a " + schema.name + " cannot be undone";
    }
  }
  if (!d.changes.empty()) d.action = Action::kUpdate;
  return d;
}

const std::string& AttrChange::summary() const {
  static const std::string none;
  return note ? note->summary : none;
}

const std::vector<std::string>& AttrChange::details() const {
  static const std::vector<std::string> none;
  return note ? note->details : none;
}

AttrChange::Note& AttrChange::OwnNote() {
  // A copy's note may be shared with the change it was copied from: written on a copy of it.
  auto own = note ? std::make_shared<Note>(*note) : std::make_shared<Note>();
  Note& n = *own;
  note = std::move(own);
  return n;
}

void AttrChange::set_summary(std::string summary) { OwnNote().summary = std::move(summary); }
void AttrChange::set_details(std::vector<std::string> details) { OwnNote().details = std::move(details); }

const AttrChange* Diff::Update(const std::string& attr) const {
  if (action != Action::kUpdate) return nullptr;
  for (const AttrChange& c : changes)
    if (c.name == attr) return &c;
  return nullptr;
}

void Diff::Drop(const std::string& attr) {
  std::erase_if(changes, [&](const AttrChange& c) { return c.name == attr; });
  if (action == Action::kUpdate && changes.empty()) action = Action::kNone;
}

}  // namespace reconcile
