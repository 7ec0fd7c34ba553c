// OpenSSH's client configuration (ssh_config(5)), read the way `ssh NAME` reads it, for the few
// keywords that decide where, as whom and with which keys we connect: so that a host an
// operator reaches with `ssh NAME` is reached the same way here. What the config says that we
// do not follow (Match blocks, ProxyCommand, tokens we cannot expand) is listed, not guessed
// at; what ssh itself would refuse (a bad Port, a stray token in HostName) is an error.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"

namespace reconcile {

// What `ssh NAME` would use; each unset (or empty) when the config does not say.
struct SshConfigEntry {
  std::optional<std::string> hostname;  // %h (the name given) and %% expanded, lowercased as ssh does
  std::optional<std::string> user;
  std::optional<int> port;
  // In order, duplicates once; ~, %d, %u, %h, %r, %n, %p and %j expanded. "none" is kept: it
  // means no key files at all, not even ssh's default ones.
  std::vector<std::string> identity_files;
  std::optional<std::string> proxy_jump;  // as written; "none" kept
  // The first UserKnownHostsFile line's files, expanded as identity files are.
  std::vector<std::string> user_known_hosts_files;
  // "FILE:LINE: Match is not supported: its block is skipped" and the like, for a note.
  std::vector<std::string> ignored;
};

// Reads the config at `path` (a leading ~/ is `home`'s) for the host named `host` as given to
// ssh. `home` also stands for ~ and %d, and holds the .ssh folder relative Include paths are
// in; `local_user` is %u, and %r when the config names no User. A missing file is an error of
// code kNotFound naming it (a caller reading the default ~/.ssh/config may accept that).
Result<SshConfigEntry> ReadSshConfig(const std::string& path, const std::string& host, std::string_view home,
                                     std::string_view local_user);

// The same for a config's text; `file_name` is what errors and notes name. Include still
// reads files.
Result<SshConfigEntry> ParseSshConfig(std::string_view text, const std::string& file_name, const std::string& host,
                                      std::string_view home, std::string_view local_user);

}  // namespace reconcile
