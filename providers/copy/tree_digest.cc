#include "providers/copy/tree_digest.h"

#include <sstream>

namespace reconcile::copy {

namespace {

// One line: "A" absent, "L" a symbolic link, "O" neither file nor folder, "F MODE SIZE SHA256",
// or "D MODE FILES BYTES SHA256  -" — the folder's checksum line as sha256sum printed it, or
// whatever find said instead (the errors are captured into the same line, so they are seen).
constexpr const char* kDigestScript =
    "p=$1; "
    "if [ -L \"$p\" ]; then echo L; "
    "elif [ -f \"$p\" ]; then s=$(sha256sum < \"$p\") || exit 3; "
    "printf 'F %s %s\\n' \"$(stat -c '%a %s' -- \"$p\")\" \"${s%% *}\"; "
    "elif [ -d \"$p\" ]; then cd -- \"$p\" || exit 3; "
    "c=$(find . -type f -printf '%s\\n' | awk '{n++; s+=$1} END {print n+0, s+0}'); "
    "d=$( { { find . -printf '%y %m %p -> %l\\n' && find . -type f -exec sha256sum -- {} +; } "
    "| LC_ALL=C sort | sha256sum; } 2>&1 ); "
    "printf 'D %s %s %s\\n' \"$(stat -c %a .)\" \"$c\" \"$d\"; "
    "elif [ -e \"$p\" ]; then echo O; "
    "else echo A; fi";

bool IsHex64(const std::string& s) {
  return s.size() == 64 && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::string Mode4(const std::string& mode) { return std::string(mode.size() < 4 ? 4 - mode.size() : 0, '0') + mode; }

}  // namespace

const char* KindName(TreeDigest::Kind kind) {
  switch (kind) {
    case TreeDigest::Kind::kFile:
      return "file";
    case TreeDigest::Kind::kFolder:
      return "folder";
    default:
      return "absent";
  }
}

std::vector<std::string> DigestCommand(const std::string& path) { return {"sh", "-c", kDigestScript, "digest", path}; }

Result<TreeDigest> ParseDigest(const CommandResult& r, const std::string& where) {
  std::string line = r.out.substr(0, r.out.find('\n'));
  if (r.exit_code != 0)
    return Error{"cannot read " + where + " (exit " + std::to_string(r.exit_code) + "): " + r.err +
                 (r.exit_code == 3 ? " — is it readable by the SSH user? (sudo = true on the host)" : "")};
  TreeDigest d;
  if (line == "A") return d;
  if (line == "L") return Error{where + " is a symbolic link; copy what it points to instead"};
  if (line == "O") return Error{where + " is neither a file nor a folder"};
  std::istringstream in(line);
  std::string tag, sha, dash;
  in >> tag >> d.mode;
  d.mode = Mode4(d.mode);
  if (tag == "F") {
    in >> d.bytes >> sha;
    d.kind = TreeDigest::Kind::kFile;
    d.files = 1;
  } else if (tag == "D") {
    in >> d.files >> d.bytes >> sha >> dash;
    d.kind = TreeDigest::Kind::kFolder;
    if (IsHex64(sha) && dash != "-") sha.clear();  // sha256sum's line has "-" after the sum
  }
  if (!in || !IsHex64(sha) || (tag != "F" && tag != "D")) {
    // A folder's line holds find's complaints when it could not read everything.
    return Error{"cannot read " + where + ": " + (line.empty() ? r.err : line) +
                 " — is every entry readable by the SSH user? (sudo = true on the host)"};
  }
  d.sha256 = sha;
  return d;
}

Result<TreeDigest> ReadDigest(RemoteShell& shell, const std::string& path) {
  auto r = shell.Read(DigestCommand(path));
  if (!r) return r.error();
  return ParseDigest(*r, shell.Describe() + ":" + path);
}

}  // namespace reconcile::copy
