#include "providers/aws/credentials.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "engine/os_calls.h"

namespace reconcile::aws {

namespace {

std::string Trim(const std::string& s) {
  std::size_t a = s.find_first_not_of(" \t\r");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r") - a + 1);
}

// A profile's keys from one file: found (keys or not), absent, or the file unreadable.
struct FileLookup {
  bool file_read = false;
  std::optional<std::map<std::string, std::string>> section;
  std::string error;  // when the file exists but cannot be read
};

FileLookup Lookup(const std::string& path, const std::string& section) {
  FileLookup out;
  std::string text;
  if (int err = ReadWholeFile(path, 1 << 20, &text); err != 0) {
    if (err != ENOENT) out.error = "cannot read " + path + ": " + std::strerror(err);
    return out;
  }
  out.file_read = true;
  auto ini = ParseIni(text);
  if (auto it = ini.find(section); it != ini.end()) out.section = it->second;
  return out;
}

std::string Get(const std::map<std::string, std::string>& m, const char* key) {
  auto it = m.find(key);
  return it == m.end() ? "" : it->second;
}

}  // namespace

CredentialWorld CredentialWorld::System() {
  CredentialWorld w;
  w.env = [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (!v || !*v) return std::nullopt;
    return std::string(v);
  };
  const char* home = std::getenv("HOME");
  w.home = home ? home : "";
  return w;
}

std::map<std::string, std::map<std::string, std::string>> ParseIni(const std::string& text) {
  std::map<std::string, std::map<std::string, std::string>> out;
  std::istringstream in(text);
  std::string line, section;
  bool in_section = false;
  while (std::getline(in, line)) {
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[' && t.back() == ']') {
      section = Trim(t.substr(1, t.size() - 2));
      in_section = true;
      out[section];
      continue;
    }
    std::size_t eq = t.find('=');
    if (!in_section || eq == std::string::npos) continue;
    out[section][Trim(t.substr(0, eq))] = Trim(t.substr(eq + 1));
  }
  return out;
}

Result<Credentials> ResolveCredentials(const GivenCredentials& given, const CredentialWorld& world) {
  auto env = [&](const char* name) { return world.env ? world.env(name).value_or("") : std::string(); };
  auto pair = [](const std::string& key, const std::string& secret, const std::string& token, const std::string& source,
                 const char* key_name, const char* secret_name) -> Result<Credentials> {
    if (key.empty()) return Error{source + " gives " + secret_name + " without " + key_name, ErrorCode::kInvalid};
    if (secret.empty()) return Error{source + " gives " + key_name + " without " + secret_name, ErrorCode::kInvalid};
    return Credentials{key, secret, token, source};
  };

  if (!given.access_key.empty() || !given.secret_key.empty())
    return pair(given.access_key, given.secret_key, given.session_token, "the provider", "access_key", "secret_key");
  // A profile the provider names wins over the environment's keys, as --profile does for the
  // AWS CLI: a shell left with another account's keys must not redirect a spec.
  std::string env_key = env("AWS_ACCESS_KEY_ID"), env_secret = env("AWS_SECRET_ACCESS_KEY");
  if (given.profile.empty() && (!env_key.empty() || !env_secret.empty()))
    return pair(env_key, env_secret, env("AWS_SESSION_TOKEN"), "the environment", "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY");

  std::string profile = !given.profile.empty() ? given.profile : env("AWS_PROFILE");
  if (profile.empty()) profile = "default";
  std::string credentials_file = env("AWS_SHARED_CREDENTIALS_FILE");
  if (credentials_file.empty()) credentials_file = world.home + "/.aws/credentials";
  std::string config_file = env("AWS_CONFIG_FILE");
  if (config_file.empty()) config_file = world.home + "/.aws/config";

  // The credentials file names a profile [NAME]; the config file [profile NAME], but [default].
  struct Place {
    std::string file, section;
  };
  const Place places[] = {{credentials_file, profile},
                          {config_file, profile == "default" ? "default" : "profile " + profile}};
  bool profile_seen = false;
  for (const Place& p : places) {
    FileLookup found = Lookup(p.file, p.section);
    if (!found.error.empty()) return Error{found.error, ErrorCode::kRefused};
    if (!found.section) continue;
    profile_seen = true;
    const auto& s = *found.section;
    for (const char* unsupported : {"role_arn", "credential_process", "sso_start_url", "sso_session"})
      if (s.count(unsupported))
        return Error{"profile " + profile + " in " + p.file + " uses " + unsupported +
                         ", which reconcile does not follow; give access_key and secret_key (or "
                         "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY) of the role's session instead",
                     ErrorCode::kNotSupported};
    std::string key = Get(s, "aws_access_key_id"), secret = Get(s, "aws_secret_access_key");
    if (key.empty() && secret.empty()) continue;  // a config profile with only a region, say
    return pair(key, secret, Get(s, "aws_session_token"), "profile " + profile + " in " + p.file, "aws_access_key_id",
                "aws_secret_access_key");
  }
  if (profile_seen)
    return Error{"profile " + profile + " has no aws_access_key_id and aws_secret_access_key (in " + credentials_file +
                     " or " + config_file + ")",
                 ErrorCode::kRefused};
  if (profile != "default" || !given.profile.empty())
    return Error{"no profile " + profile + " in " + credentials_file + " or " + config_file, ErrorCode::kRefused};
  return Error{
      "no AWS credentials: give access_key and secret_key (env:NAME or file:PATH), set AWS_ACCESS_KEY_ID and "
      "AWS_SECRET_ACCESS_KEY, or name a profile of " +
          credentials_file,
      ErrorCode::kRefused};
}

}  // namespace reconcile::aws
