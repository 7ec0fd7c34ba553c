#include "engine/journal/seal.h"

#include "engine/hash.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <charconv>
#include <memory>

namespace reconcile {

namespace {

constexpr int kNonce = 12;
constexpr int kTag = 16;
constexpr int kSalt = 16;
// scrypt's cost for new values: 32 MiB and about a tenth of a second, once per run.
constexpr int kLog2N = 15;
constexpr int kR = 8;
constexpr int kP = 1;
constexpr std::string_view kScheme = "scrypt:";

using Ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* Bytes(const std::string& s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* Bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

Result<std::string> Encrypt(const std::string& key, const std::string& plain) {
  std::string nonce(kNonce, '\0');
  if (RAND_bytes(Bytes(nonce), kNonce) != 1) return Error{"cannot draw a random nonce"};
  Ctx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string ct(plain.size(), '\0');
  std::string tag(kTag, '\0');
  int len = 0, fin = 0;
  if (EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key), Bytes(nonce)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), Bytes(ct), &len, Bytes(plain), static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), Bytes(ct) + len, &fin) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, Bytes(tag)) != 1)
    return Error{"cannot seal a value for the journal"};
  return nonce + ct + tag;
}

Result<std::string> Decrypt(const std::string& key, const std::string& raw) {
  if (raw.size() < kNonce + kTag) return Error{"a sealed value in the journal is too short"};
  std::string nonce = raw.substr(0, kNonce);
  std::string tag = raw.substr(raw.size() - kTag);
  std::string ct = raw.substr(kNonce, raw.size() - kNonce - kTag);
  Ctx ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
  std::string plain(ct.size(), '\0');
  int len = 0, fin = 0;
  if (EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, Bytes(key), Bytes(nonce)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), Bytes(plain), &len, Bytes(ct), static_cast<int>(ct.size())) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), Bytes(plain) + len, &fin) != 1)
    return Error{"a sealed value in the journal does not open with this key (was [state] key changed?)"};
  return plain;
}

bool Int(std::string_view s, int lo, int hi, int* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size() && *out >= lo && *out <= hi;
}

// "scrypt:LOG2N:R:P:SALT:SEALED" split; false when it is not that shape.
struct Scrypted {
  int log2n = 0, r = 0, p = 0;
  std::string salt, raw;
};
bool ParseScrypted(std::string_view text, Scrypted* out) {
  if (text.substr(0, kScheme.size()) != kScheme) return false;
  text.remove_prefix(kScheme.size());
  std::string_view parts[5];
  for (int i = 0; i < 5; ++i) {
    std::size_t colon = i == 4 ? std::string_view::npos : text.find(':');
    if (i < 4 && colon == std::string_view::npos) return false;
    parts[i] = text.substr(0, colon);
    text = colon == std::string_view::npos ? std::string_view() : text.substr(colon + 1);
  }
  // Bounded: a journal must not make a reader spend gigabytes or hours.
  return Int(parts[0], 10, 20, &out->log2n) && Int(parts[1], 1, 32, &out->r) && Int(parts[2], 1, 16, &out->p) &&
         Base64Decode(parts[3], &out->salt) && !out->salt.empty() && Base64Decode(parts[4], &out->raw);
}

}  // namespace

Sealer::Sealer(std::optional<std::string> key) : key_(std::move(key)), keys_(std::make_shared<Keys>()) {}

Result<std::string> Sealer::KeyFor(int log2n, int r, int p, const std::string& salt) const {
  std::string id = std::to_string(log2n) + ":" + std::to_string(r) + ":" + std::to_string(p) + ":" + salt;
  // Held while deriving: parallel steps wait for the one derivation instead of each doing it.
  std::lock_guard<std::mutex> guard(keys_->mu);
  if (auto it = keys_->derived.find(id); it != keys_->derived.end()) return it->second;
  std::uint64_t n = std::uint64_t{1} << log2n;
  std::uint64_t maxmem = 128ull * r * (n + 2) + 128ull * r * p + (1u << 20);
  std::string key(32, '\0');
  if (EVP_PBE_scrypt(key_->data(), key_->size(), Bytes(salt), salt.size(), n, r, p, maxmem, Bytes(key), key.size()) !=
      1)
    return Error{"cannot derive the journal key (scrypt)"};
  keys_->derived[id] = key;
  return key;
}

Result<std::string> Sealer::SealText(const std::string& plain) const {
  if (!key_) return Error{"no journal key"};
  std::string salt;
  {
    std::lock_guard<std::mutex> guard(keys_->mu);
    if (!keys_->salt) {
      std::string fresh(kSalt, '\0');
      if (RAND_bytes(Bytes(fresh), kSalt) != 1) return Error{"cannot draw a random salt"};
      keys_->salt = fresh;
    }
    salt = *keys_->salt;
  }
  auto key = KeyFor(kLog2N, kR, kP, salt);
  if (!key) return key.error();
  auto raw = Encrypt(*key, plain);
  if (!raw) return raw.error();
  return std::string(kScheme) + std::to_string(kLog2N) + ":" + std::to_string(kR) + ":" + std::to_string(kP) + ":" +
         Base64Encode(salt) + ":" + Base64Encode(*raw);
}

Result<std::string> Sealer::OpenText(const std::string& sealed) const {
  if (!key_) return Error{"the journal holds sealed values; set [state] key to the key they were sealed with"};
  Scrypted s;
  if (ParseScrypted(sealed, &s)) {
    auto key = KeyFor(s.log2n, s.r, s.p, s.salt);
    if (!key) return key.error();
    return Decrypt(*key, s.raw);
  }
  if (sealed.substr(0, kScheme.size()) == kScheme) return Error{"a sealed value in the journal is malformed"};
  // Sealed before the key was derived with scrypt: the key was SHA-256 of the operator's key.
  std::string raw;
  if (!Base64Decode(sealed, &raw)) return Error{"a sealed value in the journal is not valid base64"};
  std::string key(SHA256_DIGEST_LENGTH, '\0');
  SHA256(Bytes(*key_), key_->size(), Bytes(key));
  return Decrypt(key, raw);
}

std::optional<std::string> Sealer::SaltIn(const nlohmann::json& data) {
  std::optional<std::string> found;
  if (data.is_object()) {
    if (auto it = data.find("$sealed"); it != data.end() && it->is_string()) {
      Scrypted s;
      if (ParseScrypted(it->get_ref<const std::string&>(), &s)) return s.salt;
    }
    for (const auto& [k, v] : data.items())
      if (auto salt = SaltIn(v)) found = salt;
  } else if (data.is_array()) {
    for (const auto& v : data)
      if (auto salt = SaltIn(v)) found = salt;
  }
  return found;
}

void Sealer::AdoptSalt(const std::string& salt) {
  std::lock_guard<std::mutex> guard(keys_->mu);
  if (!keys_->salt) keys_->salt = salt;
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
  nlohmann::json out = nlohmann::json::object();
  out["exists"] = s.exists;
  out["attrs"] = std::move(attrs);
  if (!s.private_data.empty()) out["private"] = s.private_data.str();
  return out;
}

Result<State> Sealer::Open(const nlohmann::json& j, std::set<std::string>* unknown) const {
  State s;
  if (!j.is_object()) return s;
  s.exists = j.value("exists", false);
  if (j.contains("private") && j["private"].is_string()) s.private_data = j["private"].get<std::string>();
  if (!j.contains("attrs")) return s;
  for (auto it = j["attrs"].begin(); it != j["attrs"].end(); ++it) {
    const nlohmann::json& v = it.value();
    if (v.is_object() && v.contains("$redacted")) {
      if (unknown) unknown->insert(it.key());
      continue;
    }
    if (v.is_object() && v.contains("$sealed")) {
      if (!v["$sealed"].is_string()) return Error{"a sealed value in the journal is malformed"};
      auto plain = OpenText(v["$sealed"].get<std::string>());
      if (!plain) return plain.error();
      auto parsed = nlohmann::json::parse(*plain, nullptr, false);
      if (parsed.is_discarded()) return Error{"a sealed value in the journal holds no JSON"};
      s.attrs[it.key()] = FromJson(parsed);
      continue;
    }
    s.attrs[it.key()] = FromJson(v);
  }
  return s;
}

}  // namespace reconcile
