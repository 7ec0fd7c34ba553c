// Sensitive values in the journal: sealed with AES-256-GCM under the operator's key
// ([state] key = "env:…" or "file:…"), or, with no key, left out — in which case the change
// that would need them to be undone is irreversible, and the plan says so.
//
// The AES key is drawn from the operator's key with scrypt and a random salt, both named in
// each sealed value ("scrypt:LOG2N:R:P:SALT:SEALED", base64), so a stolen journal costs a
// guesser scrypt per guess. One salt serves a whole journal (a run takes the one its journal
// already uses), so a run derives the key once. Values written before (plain base64, the key
// then SHA-256 of the operator's key) still open.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
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

  // The salt of the newest value sealed in `data` (a record's), if any: what a run adopts so
  // the journal keeps one salt.
  static std::optional<std::string> SaltIn(const nlohmann::json& data);
  // Seal with this salt (raw bytes) from now on, unless this sealer already sealed with another.
  void AdoptSalt(const std::string& salt);

 private:
  struct Keys {
    std::mutex mu;
    std::optional<std::string> salt;             // for sealing; drawn when first needed
    std::map<std::string, std::string> derived;  // "log2n:r:p:" + salt → 32-byte AES key
  };
  Result<std::string> KeyFor(int log2n, int r, int p, const std::string& salt) const;

  std::optional<std::string> key_;  // the operator's key text
  std::shared_ptr<Keys> keys_;
};

}  // namespace reconcile
