// The local machine's side of the `file` type: read a file's content, mode and owner, and
// write one atomically (temporary file in the same folder, fsync, rename, fsync the folder).
#pragma once

#include <optional>
#include <string>

#include "engine/result.h"

namespace reconcile::file {

struct FileInfo {
  bool exists = false;
  std::string content;
  std::string mode;  // four octal digits, "0644"
  std::string owner;
  std::string group;
};

Result<FileInfo> ReadLocalFile(const std::string& path);

struct FileWrite {
  std::optional<std::string> content;  // unset: keep what is there
  std::optional<std::string> mode;
  std::optional<std::string> owner;
  std::optional<std::string> group;
};

// Creates or changes the file so it holds what `w` sets.
Status WriteLocalFile(const std::string& path, const FileWrite& w);

Status RemoveLocalFile(const std::string& path);

}  // namespace reconcile::file
