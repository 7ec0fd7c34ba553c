#include "providers/file/remote_files.h"

#include <sstream>

#include "engine/hash.h"
#include "providers/ssh/host_provider.h"

namespace reconcile::file {

namespace {

// A line a path: "A" absent, "E" exists but is not a regular file, "U" unreadable, or
// "F MODE OWNER GROUP BASE64".
constexpr const char* kProbeScript =
    "for p; do "
    "if [ -L \"$p\" ] || { [ -e \"$p\" ] && [ ! -f \"$p\" ]; }; then echo E; "
    // Absent, unless a folder on the way is closed to the SSH user: then nobody can tell.
    "elif [ ! -e \"$p\" ]; then d=$(dirname -- \"$p\"); "
    "while [ ! -e \"$d\" ] && [ \"$d\" != / ]; do d=$(dirname -- \"$d\"); done; "
    "if [ -x \"$d\" ]; then echo A; else echo U; fi; "
    "elif [ ! -r \"$p\" ]; then echo U; "
    "else printf 'F %s ' \"$(stat -c '%a %U %G' -- \"$p\")\"; base64 -w0 -- \"$p\"; echo; fi; "
    "done";

std::string Mode4(const std::string& mode) { return std::string(mode.size() < 4 ? 4 - mode.size() : 0, '0') + mode; }

Status Check(const Result<CommandResult>& r, const std::string& what) {
  if (!r) return Error{r.error().message};
  if (r->exit_code != 0) return Error{what + " failed (exit " + std::to_string(r->exit_code) + "): " + r->err};
  return Status::Ok();
}

}  // namespace

Result<std::vector<Result<FileInfo>>> ParseProbeOutput(const std::string& out, const std::vector<std::string>& paths) {
  std::vector<Result<FileInfo>> infos;
  std::istringstream in(out);
  std::string line;
  for (const std::string& path : paths) {
    if (!std::getline(in, line)) return Error{"the probe ended early, at " + path};
    FileInfo info;
    if (line == "A") {
      infos.push_back(info);
    } else if (line == "E") {
      infos.push_back(Error{path + " exists and is not a regular file; reconcile will not replace it"});
    } else if (line == "U") {
      infos.push_back(Error{path + " cannot be read by the SSH user; set sudo = true on the host"});
    } else if (line.rfind("F ", 0) == 0) {
      std::istringstream fields(line.substr(2));
      std::string b64;
      fields >> info.mode >> info.owner >> info.group >> b64;
      if (!Base64Decode(b64, &info.content)) return Error{"the probe of " + path + " returned damaged content"};
      info.mode = Mode4(info.mode);
      info.exists = true;
      infos.push_back(info);
    } else {
      return Error{"the probe of " + path + " returned '" + line + "'"};
    }
  }
  return infos;
}

std::string ProbeFilesScript(const std::vector<std::string>& paths) {
  std::vector<std::string> set = {"set", "--"};
  set.insert(set.end(), paths.begin(), paths.end());
  return ShellCommand(set) + "; " + kProbeScript;
}

Result<std::vector<Result<FileInfo>>> ParseProbeResult(const Result<CommandResult>& r,
                                                       const std::vector<std::string>& paths,
                                                       const std::string& where) {
  if (Status s = Check(r, "reading files on " + where); !s) return Error{s.message()};
  return ParseProbeOutput(r->out, paths);
}

Result<std::vector<Result<FileInfo>>> ReadRemoteFiles(RemoteShell& shell, const std::vector<std::string>& paths) {
  return ParseProbeResult(ReadScript(shell, ProbeFilesScript(paths)), paths, shell.Describe());
}

Status WriteRemoteFile(RemoteShell& shell, const std::string& path, const FileWrite& w, bool exists) {
  if (w.content || !exists) {
    FileWriteRequest req{path, w.content.value_or(""), w.mode.value_or("0644"), w.owner, w.group};
    if (exists && !w.mode) {
      // A rewrite keeps the mode the file had unless the spec names one.
      auto r = shell.Read({"stat", "-c", "%a", "--", path});
      if (Status s = Check(r, "stat " + path); !s) return s;
      req.mode = Mode4(r->out.substr(0, r->out.find('\n')));
    }
    return shell.WriteFile(req);
  }
  // Metadata only: the content is never at risk.
  if (w.mode) {
    if (Status s = Check(shell.Run({"chmod", *w.mode, "--", path}), "chmod " + path); !s) return s;
  }
  if (w.owner || w.group) {
    std::string who = w.owner.value_or("") + (w.group ? ":" + *w.group : "");
    if (Status s = Check(shell.Run({"chown", "--", who, path}), "chown " + path); !s) return s;
  }
  return Status::Ok();
}

Status RemoveRemoteFile(RemoteShell& shell, const std::string& path) {
  return Check(shell.Run({"rm", "-f", "--", path}), "rm " + path);
}

}  // namespace reconcile::file
