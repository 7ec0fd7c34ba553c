// Which provider serves which resource type and provider kind. Filled once at start by an
// explicit RegisterBuiltinProviders(Registry&) (no static-initialisation tricks); refuses a
// type or kind that two providers both claim.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/provider.h"

namespace reconcile {

class Registry {
 public:
  Status Add(std::unique_ptr<Provider> provider);

  const TypeSchema* FindType(const std::string& type) const;
  Provider* ProviderFor(const std::string& type) const;
  const ProviderKindSchema* FindKind(const std::string& kind) const;

  std::vector<std::string> TypeNames() const;
  std::vector<std::string> KindNames() const;
  // Every provider's [host.NAME] keys (Provider::HostSettings).
  const std::vector<AttrSchema>& HostSettings() const { return host_settings_; }

 private:
  struct TypeEntry {
    TypeSchema schema;
    Provider* provider;
  };
  std::vector<std::unique_ptr<Provider>> providers_;
  std::map<std::string, TypeEntry> types_;
  std::map<std::string, ProviderKindSchema> kinds_;
  std::vector<AttrSchema> host_settings_;
};

}  // namespace reconcile
