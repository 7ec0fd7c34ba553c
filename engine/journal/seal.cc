#include "engine/journal/seal.h"

#include "engine/hash.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <memory>

namespace reconcile {

namespace {

constexpr int kNonce = 12;
constexpr int kTag = 16;

using Ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

}  // namespace

Sealer::Sealer(std::optional<std::string> key) {
  if (!key) return;
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key->data()), key->size(), digest);
  key_ = std::string(reinterpret_cast<char*>(digest), sizeof digest);
}

Result<std::string> Sealer::SealText(const std::string& plain) const {
  if (!key_) return Error{"no journal key"};
  unsigned char nonce[kNonce];
  if (RAND_bytes(nonce, kNonce) != 1) return Error{"cannot draw a random nonce"};
  Ctx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string ct(plain.size(), '\0');
  unsigned char tag[kTag];
  int len = 0, fin = 0;
  auto* k = reinterpret_cast<const unsigned char*>(key_->data());
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, k, nonce) != 1 ||
      EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(ct.data()), &len,
                        reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(ct.data()) + len, &fin) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, tag) != 1)
    return Error{"cannot seal a value for the journal"};
  return Base64Encode(std::string(reinterpret_cast<char*>(nonce), kNonce) + ct + std::string(reinterpret_cast<char*>(tag), kTag));
}

Result<std::string> Sealer::OpenText(const std::string& sealed) const {
  if (!key_) return Error{"the journal holds sealed values; set [state] key to the key they were sealed with"};
  std::string decoded;
  if (!Base64Decode(sealed, &decoded)) return Error{"a sealed value in the journal is not valid base64"};
  auto raw = &decoded;
  if (raw->size() < kNonce + kTag) return Error{"a sealed value in the journal is too short"};
  std::string nonce = raw->substr(0, kNonce);
  std::string tag = raw->substr(raw->size() - kTag);
  std::string ct = raw->substr(kNonce, raw->size() - kNonce - kTag);
  Ctx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string plain(ct.size(), '\0');
  int len = 0, fin = 0;
  auto* k = reinterpret_cast<const unsigned char*>(key_->data());
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, k,
                         reinterpret_cast<const unsigned char*>(nonce.data())) != 1 ||
      EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()), &len,
                        reinterpret_cast<const unsigned char*>(ct.data()), static_cast<int>(ct.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plain.data()) + len, &fin) != 1)
    return Error{"a sealed value in the journal does not open with this key (was [state] key changed?)"};
  return plain;
}

nlohmann::json Sealer::Seal(const State& s, const std::function<bool(const std::string&)>& sensitive) const {
  nlohmann::json attrs = nlohmann::json::object();
  for (const auto& [name, v] : s.attrs) {
    if (!sensitive(name)) {
      attrs[name] = ToJson(v);
      continue;
    }
    auto sealed = SealText(ToJson(v).dump());
    if (sealed) attrs[name] = {{"$sealed", *sealed}};
    else attrs[name] = {{"$redacted", true}};
  }
  return {{"exists", s.exists}, {"attrs", attrs}};
}

Result<State> Sealer::Open(const nlohmann::json& j, std::set<std::string>* unknown) const {
  State s;
  if (!j.is_object()) return s;
  s.exists = j.value("exists", false);
  if (!j.contains("attrs")) return s;
  for (auto it = j["attrs"].begin(); it != j["attrs"].end(); ++it) {
    const nlohmann::json& v = it.value();
    if (v.is_object() && v.contains("$redacted")) {
      if (unknown) unknown->insert(it.key());
      continue;
    }
    if (v.is_object() && v.contains("$sealed")) {
      auto plain = OpenText(v["$sealed"].get<std::string>());
      if (!plain) return plain.error();
      s.attrs[it.key()] = FromJson(nlohmann::json::parse(*plain));
      continue;
    }
    s.attrs[it.key()] = FromJson(v);
  }
  return s;
}

}  // namespace reconcile
