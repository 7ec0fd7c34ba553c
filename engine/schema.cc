#include "engine/schema.h"

#include "engine/provider.h"

#include <algorithm>
#include <charconv>
#include <sstream>

namespace reconcile {

Value DefaultValue(const AttrSchema& a) {
  const std::string& text = a.default_value;
  if (text.empty()) return {};
  switch (a.type) {
    case AttrType::kBool:
      if (text == "true" || text == "false") return text == "true";
      return {};
    case AttrType::kInt: {
      std::int64_t n = 0;
      auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
      if (ec != std::errc() || end != text.data() + text.size()) return {};
      return n;
    }
    case AttrType::kString:
    case AttrType::kDuration:
      return text;
    case AttrType::kStringList:
    case AttrType::kArgv:
    case AttrType::kStringMap: {
      StringList items;
      std::istringstream in(text);
      for (std::string item; in >> item;) items.push_back(item);
      return items;
    }
  }
  return {};
}

const AttrSchema* FindAttr(const std::vector<AttrSchema>& attrs, const std::string& name) {
  for (const AttrSchema& a : attrs)
    if (a.name == name) return &a;
  return nullptr;
}

const AttrSchema* TypeSchema::Find(const std::string& attr) const { return FindAttr(attrs, attr); }

std::vector<std::string> TypeSchema::ProviderKinds() const {
  if (provider_kind.empty()) return {};
  std::vector<std::string> out = {provider_kind};
  out.insert(out.end(), also_provider_kinds.begin(), also_provider_kinds.end());
  return out;
}

bool TypeSchema::TakesProviderKind(const std::string& kind) const {
  std::vector<std::string> kinds = ProviderKinds();
  return std::find(kinds.begin(), kinds.end(), kind) != kinds.end();
}

std::string TypeSchema::ProviderTables() const {
  std::string out;
  std::vector<std::string> kinds = ProviderKinds();
  for (std::size_t i = 0; i < kinds.size(); ++i)
    out += (i == 0 ? "" : i + 1 == kinds.size() ? " or " : ", ") + ("[provider." + kinds[i] + ".NAME]");
  return out;
}

void FillDefaults(const TypeSchema& type, AttrMap* attrs) {
  // The resource's variant, read before anything is filled in.
  std::string variant;
  if (!type.variant_attr.empty()) variant = StringAttr(*attrs, type.variant_attr);
  for (const AttrSchema& a : type.attrs) {
    if (attrs->count(a.name)) continue;
    if (!a.kinds.empty() && std::find(a.kinds.begin(), a.kinds.end(), variant) == a.kinds.end()) continue;
    if (a.default_from)
      if (std::string v = a.default_from(*attrs); !v.empty()) {
        (*attrs)[a.name] = std::move(v);
        continue;
      }
    if (Value v = DefaultValue(a); !IsNull(v)) (*attrs)[a.name] = std::move(v);
  }
}

Value DesiredValue(const Target& t, const std::string& attr) {
  if (auto it = t.desired.find(attr); it != t.desired.end()) return it->second;
  const AttrSchema* a = t.type ? t.type->Find(attr) : nullptr;
  return a ? DefaultValue(*a) : Value{};
}

void FillDefaults(const std::vector<AttrSchema>& schema, AttrMap* attrs) {
  for (const AttrSchema& a : schema)
    if (!attrs->count(a.name))
      if (Value v = DefaultValue(a); !IsNull(v)) (*attrs)[a.name] = std::move(v);
}

}  // namespace reconcile
