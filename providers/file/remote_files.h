// The `file` type on SSH hosts: every file a batch names on one host is read in one round
// trip by a small sh script that starts a fixed number of processes however many files there
// are (one stat and one cat | base64 for all of them; a file whose size says nothing of its
// length, empty by stat or under /proc or /sys, is read by a base64 of its own); writes go through
// RemoteShell::WriteFile (temporary file + rename), metadata through chmod/chown.
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

// Parses the probe script's output (pure, so it is tested on its own). A file that changed
// between the script's stat and its cat fails the whole batch, saying to run again; one read
// on its own that failed is that path's error.
Result<std::vector<Result<FileInfo>>> ParseProbeOutput(const std::string& out, const std::vector<std::string>& paths);

Status WriteRemoteFile(RemoteShell& shell, const std::string& path, const FileWrite& w, bool exists);
Status RemoveRemoteFile(RemoteShell& shell, const std::string& path);

}  // namespace reconcile::file
