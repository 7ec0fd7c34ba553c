#include "engine/os_calls.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

namespace reconcile {

namespace {

// Calls lookup(entry, buf, size, &found) with a buffer that grows while it is too small
// (ERANGE): a group with many members needs more than sysconf's suggestion.
template <typename Entry, typename Lookup>
std::optional<Entry> Find(int size_hint, Lookup lookup, std::vector<char>* buf) {
  long hint = ::sysconf(size_hint);
  buf->resize(hint > 0 ? static_cast<std::size_t>(hint) : 1024);
  Entry entry;
  while (true) {
    Entry* found = nullptr;
    int rc = lookup(&entry, buf->data(), buf->size(), &found);
    if (rc == 0) {
      if (!found) return std::nullopt;
      return entry;
    }
    if (rc == EINTR) continue;
    if (rc != ERANGE || buf->size() >= (std::size_t{1} << 24)) return std::nullopt;
    buf->resize(buf->size() * 2);
  }
}

}  // namespace

std::string ErrnoText(int err) {
  char buf[256];
  // The GNU strerror_r returns the message, in buf or in a static table.
  return ::strerror_r(err, buf, sizeof buf);
}

std::optional<uid_t> UserId(const std::string& name) {
  std::vector<char> buf;
  auto pw = Find<passwd>(
      _SC_GETPW_R_SIZE_MAX,
      [&](passwd* e, char* b, std::size_t n, passwd** out) { return ::getpwnam_r(name.c_str(), e, b, n, out); }, &buf);
  if (!pw) return std::nullopt;
  return pw->pw_uid;
}

std::optional<gid_t> GroupId(const std::string& name) {
  std::vector<char> buf;
  auto gr = Find<group>(
      _SC_GETGR_R_SIZE_MAX,
      [&](group* e, char* b, std::size_t n, group** out) { return ::getgrnam_r(name.c_str(), e, b, n, out); }, &buf);
  if (!gr) return std::nullopt;
  return gr->gr_gid;
}

std::optional<std::string> UserName(uid_t uid) {
  std::vector<char> buf;
  auto pw = Find<passwd>(
      _SC_GETPW_R_SIZE_MAX,
      [&](passwd* e, char* b, std::size_t n, passwd** out) { return ::getpwuid_r(uid, e, b, n, out); }, &buf);
  if (!pw) return std::nullopt;
  return std::string(pw->pw_name);
}

std::optional<std::string> GroupName(gid_t gid) {
  std::vector<char> buf;
  auto gr = Find<group>(
      _SC_GETGR_R_SIZE_MAX,
      [&](group* e, char* b, std::size_t n, group** out) { return ::getgrgid_r(gid, e, b, n, out); }, &buf);
  if (!gr) return std::nullopt;
  return std::string(gr->gr_name);
}

int WriteWhole(int fd, std::string_view text) {
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 && errno ? errno : EIO;
    done += static_cast<std::size_t>(n);
  }
  return 0;
}

int ReadWholeFile(const std::string& path, std::size_t max, std::string* out) {
  out->clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  char buf[65536];
  int err = 0;
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      err = errno;
      break;
    }
    if (n == 0) break;
    out->append(buf, static_cast<std::size_t>(n));
    if (out->size() > max) {
      err = EFBIG;
      break;
    }
  }
  ::close(fd);
  return err;
}

int CreateNewFile(const std::string& path, mode_t mode) {
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  int fd = ::open(path.c_str(), flags, mode);
  if (fd >= 0 || errno != EEXIST) return fd;
  if (::unlink(path.c_str()) != 0) {
    errno = EEXIST;  // what is in the way, not why it could not be moved
    return -1;
  }
  return ::open(path.c_str(), flags, mode);
}

bool IsPlanted(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0 && IsPlanted(path, st);
}

bool IsPlanted(const std::string& path, const struct stat& st) {
  if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || st.st_uid == ::geteuid()) return false;
  std::string folder = path.substr(0, path.rfind('/') + 1);
  struct stat dir {};
  if (::stat(folder.empty() ? "." : folder.c_str(), &dir) != 0) return true;
  const bool shared = (dir.st_mode & S_ISVTX) && (dir.st_mode & S_IWOTH);
  return shared && st.st_uid != dir.st_uid;
}

int OpenThroughOwnLink(const std::string& path, int flags, mode_t mode) {
  int fd = ::open(path.c_str(), flags | O_NOFOLLOW, mode);
  if (fd >= 0) return fd;
  // ELOOP for a link, or EACCES where the kernel refuses O_CREAT at another user's name in a
  // sticky folder: either way, what lies there decides.
  const int err = errno;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) {
    errno = err;
    return -1;
  }
  if (IsPlanted(path, st)) {
    errno = EPERM;
    return -1;
  }
  return ::open(path.c_str(), flags, mode);
}

}  // namespace reconcile
