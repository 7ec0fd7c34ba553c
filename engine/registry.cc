#include "engine/registry.h"

namespace reconcile {

const char* AttrTypeName(AttrType t) {
  switch (t) {
    case AttrType::kBool:
      return "a boolean";
    case AttrType::kInt:
      return "an integer";
    case AttrType::kString:
      return "a string";
    case AttrType::kStringList:
      return "a list of strings";
    case AttrType::kArgv:
      return "a list of arguments";
    case AttrType::kStringMap:
      return "a table of strings";
    case AttrType::kDuration:
      return "a duration such as \"30s\" or \"10m\"";
  }
  return "a value";
}

Status Registry::Add(std::unique_ptr<Provider> provider) {
  for (TypeSchema& t : provider->Types()) {
    if (types_.count(t.name))
      return Error{"resource type '" + t.name + "' is registered twice (by '" + types_[t.name].provider->name() +
                   "' and '" + provider->name() + "')"};
    // A value the world never tells is kept in the journal; only sealed, never in clear.
    for (const AttrSchema& a : t.attrs)
      if (a.write_only && !a.sensitive)
        return Error{"attribute '" + a.name + "' of '" + t.name +
                     "' is write_only but not sensitive: the journal "
                     "would keep it in clear"};
    // Read from the world only: nothing may ask the spec for it.
    for (const AttrSchema& a : t.attrs)
      if (a.computed && (a.required || a.identity || a.write_only || !a.default_value.empty() || a.default_from))
        return Error{"attribute '" + a.name + "' of '" + t.name +
                     "' is computed, so it cannot also be required, an identity, write_only or defaulted"};
    std::string name = t.name;
    types_.emplace(name, TypeEntry{std::move(t), provider.get()});
  }
  for (ProviderKindSchema& k : provider->Kinds()) {
    if (kinds_.count(k.kind)) return Error{"provider kind '" + k.kind + "' is registered twice"};
    std::string kind = k.kind;
    kinds_.emplace(kind, std::move(k));
  }
  for (AttrSchema& a : provider->HostSettings()) {
    for (const AttrSchema& b : host_settings_)
      if (b.name == a.name) return Error{"host setting '" + a.name + "' is registered twice"};
    host_settings_.push_back(std::move(a));
  }
  providers_.push_back(std::move(provider));
  return Status::Ok();
}

const TypeSchema* Registry::FindType(const std::string& type) const {
  auto it = types_.find(type);
  return it == types_.end() ? nullptr : &it->second.schema;
}

Provider* Registry::ProviderFor(const std::string& type) const {
  auto it = types_.find(type);
  return it == types_.end() ? nullptr : it->second.provider;
}

const ProviderKindSchema* Registry::FindKind(const std::string& kind) const {
  auto it = kinds_.find(kind);
  return it == kinds_.end() ? nullptr : &it->second;
}

std::vector<std::string> Registry::TypeNames() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : types_) out.push_back(name);
  return out;
}

std::vector<std::string> Registry::KindNames() const {
  std::vector<std::string> out;
  for (const auto& [name, _] : kinds_) out.push_back(name);
  return out;
}

}  // namespace reconcile
