// What a file or a folder on a host holds, as one SHA-256: for a file its content's checksum
// (what `sha256sum` prints), for a folder a checksum over every entry's type, mode, relative
// path, symlink target and file checksum. Computed on the host itself by a small sh script
// (sha256sum, find), so a copy is compared without moving its bytes; the same script runs on
// this machine for "local". Owner and mtime are carried over by a copy but not compared.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/result.h"
#include "providers/ssh/remote_shell.h"

namespace reconcile::copy {

struct TreeDigest {
  enum class Kind { kAbsent, kFile, kFolder } kind = Kind::kAbsent;
  std::string mode;    // of the file or the top folder, four octal digits
  std::string sha256;  // "" when absent
  std::int64_t files = 0;
  std::int64_t bytes = 0;
};

const char* KindName(TreeDigest::Kind kind);  // "absent", "file", "folder"

// The sh command that prints what ParseDigest reads, for `path` on the host.
std::vector<std::string> DigestCommand(const std::string& path);

// The script's output → the digest (pure, for tests). `where` names host and path in errors.
Result<TreeDigest> ParseDigest(const CommandResult& r, const std::string& where);

// Runs DigestCommand on the shell and parses it.
Result<TreeDigest> ReadDigest(RemoteShell& shell, const std::string& path);

}  // namespace reconcile::copy
