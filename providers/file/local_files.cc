#include "providers/file/local_files.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <set>

#include "engine/os_calls.h"

namespace reconcile::file {

namespace {

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + ErrnoText(errno);
}

std::string ModeString(mode_t m) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(m & 07777));
  return buf;
}

// The copies a run killed while writing left beside the file (.NAME.reconcile-PID): a file
// with the content it was writing, secrets included, that nothing else removes. Only those of
// a process that is gone; another reconcile may be writing its own right now. A folder is
// looked through once a run: an apply writing a thousand files into one folder reads it once.
void RemoveStaleCopies(const std::string& folder) {
  static std::mutex mu;
  static std::set<std::string> seen;
  {
    std::lock_guard<std::mutex> lock(mu);
    if (!seen.insert(folder).second) return;
  }
  std::error_code ec;
  for (std::filesystem::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const std::size_t at = name.rfind(".reconcile-");
    if (name[0] != '.' || at == std::string::npos || at == 0) continue;
    const std::string pid = name.substr(at + 11);
    if (pid.empty() || pid.size() > 9 || pid.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t p = static_cast<pid_t>(std::stol(pid));
    if (p <= 0 || p == ::getpid() || ::kill(p, 0) == 0 || errno != ESRCH) continue;
    // Only a copy of ours: a regular file of this user. In a folder others write to, a name
    // alike may be anyone's, and root passes over the sticky bit that guards it.
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != ::geteuid()) continue;
    ::unlink(it->path().c_str());
  }
}

Status WriteAll(int fd, const std::string& data, const std::string& path) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error{Errno("cannot write", path)};
    }
    done += static_cast<std::size_t>(n);
  }
  return Status::Ok();
}

Result<uid_t> LookupUser(const std::string& name) {
  if (auto uid = UserId(name)) return *uid;
  return Error{"no user '" + name + "' on this machine"};
}

Result<gid_t> LookupGroup(const std::string& name) {
  if (auto gid = GroupId(name)) return *gid;
  return Error{"no group '" + name + "' on this machine"};
}

Status ApplyOwnership(int fd, const std::string& path, const FileWrite& w) {
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  if (w.owner) {
    auto u = LookupUser(*w.owner);
    if (!u) return u.error();
    uid = *u;
  }
  if (w.group) {
    auto g = LookupGroup(*w.group);
    if (!g) return g.error();
    gid = *g;
  }
  if ((w.owner || w.group) && ::fchown(fd, uid, gid) != 0) return Error{Errno("cannot chown", path)};
  return Status::Ok();
}

Status SyncDir(const std::string& path) {
  std::string dir = std::filesystem::path(path).parent_path().string();
  int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Error{Errno("cannot open folder", dir)};
  ::fsync(fd);
  ::close(fd);
  return Status::Ok();
}

}  // namespace

Result<FileInfo> ReadLocalFile(const std::string& path) {
  FileInfo info;
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return info;
    return Error{Errno("cannot stat", path)};
  }
  if (!S_ISREG(st.st_mode)) return Error{path + " exists and is not a regular file; reconcile will not replace it"};
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{Errno("cannot read", path)};
  info.content.resize(static_cast<std::size_t>(st.st_size));
  std::size_t done = 0;
  while (done < info.content.size()) {
    ssize_t n = ::read(fd, info.content.data() + done, info.content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  info.content.resize(done);
  info.exists = true;
  info.mode = ModeString(st.st_mode);
  info.owner = UserName(st.st_uid).value_or(std::to_string(st.st_uid));
  info.group = GroupName(st.st_gid).value_or(std::to_string(st.st_gid));
  return info;
}

Status WriteLocalFile(const std::string& path, const FileWrite& w) {
  struct stat st;
  bool exists = ::lstat(path.c_str(), &st) == 0;
  if (exists && !S_ISREG(st.st_mode))
    return Error{path + " exists and is not a regular file; reconcile will not replace it"};
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (!dir.empty() && !std::filesystem::is_directory(dir))
    return Error{"the folder " + dir + " does not exist; create it first (or add a resource that does)"};

  mode_t mode = exists ? (st.st_mode & 07777) : 0644;
  if (w.mode) mode = static_cast<mode_t>(std::stoul(*w.mode, nullptr, 8));

  if (exists && !w.content) {
    // Only metadata changes: no rewrite, so the content is never at risk.
    // The file looked at, not what a name swapped in since names: in a folder others write to,
    // a link put in its place between the look and the open would have had its target chmodded.
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) return Error{Errno("cannot open", path)};
    struct stat now {};
    if (::fstat(fd, &now) != 0 || !S_ISREG(now.st_mode) || now.st_ino != st.st_ino || now.st_dev != st.st_dev) {
      ::close(fd);
      return Error{path + " was replaced while reconcile changed it; nothing was changed, run again"};
    }
    Status s = ApplyOwnership(fd, path, w);
    if (s && ::fchmod(fd, mode) != 0) s = Error{Errno("cannot chmod", path)};
    ::close(fd);
    return s;
  }

  const std::string folder = dir.empty() ? std::string(".") : dir;
  const std::string stem = "." + std::filesystem::path(path).filename().string() + ".reconcile-";
  RemoveStaleCopies(folder);
  std::string tmp = folder + "/" + stem + std::to_string(::getpid());
  int fd = CreateNewFile(tmp, 0600);
  if (fd < 0) return Error{Errno("cannot create", tmp)};
  std::string content = w.content ? *w.content : std::string();
  if (!w.content && exists) {
    auto current = ReadLocalFile(path);
    if (!current) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return current.error();
    }
    content = current->content;
  }
  FileWrite ownership = w;
  if (exists) {
    // A rewritten file keeps its owner unless the spec names another.
    if (!ownership.owner) ownership.owner = UserName(st.st_uid);
    if (!ownership.group) ownership.group = GroupName(st.st_gid);
  }
  Status s = WriteAll(fd, content, tmp);
  if (s) s = ApplyOwnership(fd, tmp, ownership);
  if (s && ::fchmod(fd, mode) != 0) s = Error{Errno("cannot chmod", tmp)};
  if (s && ::fsync(fd) != 0) s = Error{Errno("cannot fsync", tmp)};
  ::close(fd);
  if (s && ::rename(tmp.c_str(), path.c_str()) != 0) s = Error{Errno("cannot rename into", path)};
  if (!s) {
    ::unlink(tmp.c_str());
    return s;
  }
  return SyncDir(path);
}

Status RemoveLocalFile(const std::string& path) {
  if (::unlink(path.c_str()) != 0 && errno != ENOENT) return Error{Errno("cannot remove", path)};
  return SyncDir(path);
}

}  // namespace reconcile::file
