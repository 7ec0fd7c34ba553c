// The `file` type on SSH hosts: every file a batch names on one host is read in one round
// trip (a small sh script prints mode, owner, group and base64 content per path); writes go
// through RemoteShell::WriteFile (temporary file + rename), metadata through chmod/chown.
#pragma once

#include <string>
#include <vector>

#include "providers/file/local_files.h"
#include "providers/ssh/remote_shell.h"

namespace reconcile::file {

// One result per path, in order.
Result<std::vector<Result<FileInfo>>> ReadRemoteFiles(RemoteShell& shell, const std::vector<std::string>& paths);

// The sh fragment that prints what ParseProbeOutput reads, and the reading of its result.
std::string ProbeFilesScript(const std::vector<std::string>& paths);
Result<std::vector<Result<FileInfo>>> ParseProbeResult(const Result<CommandResult>& r,
                                                       const std::vector<std::string>& paths, const std::string& where);

// Parses the probe script's output (pure, so it is tested on its own).
Result<std::vector<Result<FileInfo>>> ParseProbeOutput(const std::string& out, const std::vector<std::string>& paths);

Status WriteRemoteFile(RemoteShell& shell, const std::string& path, const FileWrite& w, bool exists);
Status RemoveRemoteFile(RemoteShell& shell, const std::string& path);

}  // namespace reconcile::file
