// Reentrant forms of the libc lookups reconcile makes from parallel steps. getpwnam,
// getpwuid, getgrnam, getgrgid and strerror hand back storage that the next call — from any
// thread — overwrites: one of ~32 parallel file steps once read another step's half-parsed
// passwd line as a user name.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

namespace reconcile {

std::string ErrnoText(int err);  // strerror, thread-safe

// nullopt when the name or id is unknown here, or the lookup itself failed.
std::optional<uid_t> UserId(const std::string& name);
std::optional<gid_t> GroupId(const std::string& name);
std::optional<std::string> UserName(uid_t uid);
std::optional<std::string> GroupName(gid_t gid);

// The whole of a file, at most `max` bytes: 0, or the errno of what failed (EFBIG past `max`,
// so /dev/zero named by mistake ends instead of exhausting memory). The one whole-file read.
int ReadWholeFile(const std::string& path, std::size_t max, std::string* out);

// All of `text` to `fd`, through short writes and signals: 0, or the errno that stopped it.
int WriteWhole(int fd, std::string_view text);

// A new file of our own at `path`, for writing, or -1 with errno: never one found there. In a
// folder others write to, what lies under the name may be a link to another file, which an
// open with O_TRUNC would empty and write through. A name already there (such a link, or
// what a killed run left) is removed first: the name, not what a link names.
int CreateNewFile(const std::string& path, mode_t mode);

// open(2), but never through a symbolic link planted by someone else: one in a folder anyone
// may write to (sticky and world-writable, as /tmp) that neither this user nor the folder's
// owner made names whatever file its maker chose. The kernel's protected_symlinks rule, which
// not every machine has on; any other link is followed, as the operator meant. -1 with errno
// EPERM for a planted one.
int OpenThroughOwnLink(const std::string& path, int flags, mode_t mode = 0);
// Whether `path` is a link, a FIFO or another special file so planted: never written through
// or into (a FIFO of theirs would hand them what is written).
bool IsPlanted(const std::string& path);
bool IsPlanted(const std::string& path, const struct stat& looked);  // as lstat found it

}  // namespace reconcile
