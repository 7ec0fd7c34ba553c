// Digests used for plan display, saved-plan staleness and content comparison, and the
// base64 that carries bytes through JSON and shell output.
#pragma once

#include <string>
#include <string_view>

namespace reconcile {

std::string Sha256Hex(std::string_view data);

std::string Base64Encode(std::string_view data);
// False when `text` is not base64.
bool Base64Decode(std::string_view text, std::string* out);

// Incremental SHA-256 for hashing a spec together with its overlay and variables.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view data);
  std::string HexDigest();

 private:
  void* ctx_;
};

}  // namespace reconcile
