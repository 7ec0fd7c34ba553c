// Where AWS credentials come from, in the order every AWS tool takes them: the keys a
// [provider.aws.NAME] gives, then AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and
// AWS_SESSION_TOKEN), then a profile (AWS_PROFILE, else "default"); a `profile` the provider
// names comes before the environment's keys, as --profile does in the shared credentials file ([NAME]) and then the
// config file ([profile NAME], [default]). A half-given pair is an error, never a quiet fall-through to the next
// source.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "engine/result.h"

namespace reconcile::aws {

struct Credentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // "" = none
  std::string source;         // where they came from, for messages: "AWS_ACCESS_KEY_ID", "profile x in FILE"
};

// What the provider's table says (each "" when not given; secrets already resolved).
struct GivenCredentials {
  std::string access_key;
  std::string secret_key;
  std::string session_token;
  std::string profile;
};

// The machine's side: its environment and home, so tests can give their own.
struct CredentialWorld {
  std::function<std::optional<std::string>(const std::string&)> env;
  std::string home;  // for ~/.aws/…
  static CredentialWorld System();
};

Result<Credentials> ResolveCredentials(const GivenCredentials& given, const CredentialWorld& world);

// An INI file as the AWS tools read it: [section], key = value, # and ; comments; section and
// key names kept as written, values trimmed.
std::map<std::string, std::map<std::string, std::string>> ParseIni(const std::string& text);

}  // namespace reconcile::aws
