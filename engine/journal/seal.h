// Sensitive values in the journal: sealed with AES-256-GCM under the operator's key
// ([state] key = "env:…" or "file:…"), or, with no key, left out — in which case the change
// that would need them to be undone is irreversible, and the plan says so.
#pragma once

#include <functional>
#include <optional>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "engine/result.h"
#include "engine/value.h"

namespace reconcile {

class Sealer {
 public:
  explicit Sealer(std::optional<std::string> key = std::nullopt);

  bool keeps_secrets() const { return key_.has_value(); }

  // {exists, attrs} with each attribute for which `sensitive(name)` holds sealed or left out.
  nlohmann::json Seal(const State& s, const std::function<bool(const std::string&)>& sensitive) const;

  // Back to a State; attributes that were left out are named in `unknown`.
  Result<State> Open(const nlohmann::json& j, std::set<std::string>* unknown) const;

  Result<std::string> SealText(const std::string& plain) const;
  Result<std::string> OpenText(const std::string& sealed) const;

 private:
  std::optional<std::string> key_;  // 32 bytes: SHA-256 of the operator's key text
};

}  // namespace reconcile
