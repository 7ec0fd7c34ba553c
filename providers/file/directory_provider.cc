#include "providers/file/directory_provider.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <sstream>

#include "engine/os_calls.h"
#include "providers/file/file_provider.h"
#include "providers/ssh/host_connections.h"

namespace reconcile {

namespace {

// How many names a refusal to remove a folder shows of what it holds.
constexpr std::size_t kNamesShown = 5;

struct DirInfo {
  bool exists = false;
  std::string mode;  // "0755"
  std::string owner;
  std::string group;
};

State ToState(const std::string& path, const DirInfo& info) {
  State s;
  s.exists = info.exists;
  if (!info.exists) return s;
  s.attrs["path"] = path;
  s.attrs["mode"] = info.mode;
  s.attrs["owner"] = info.owner;
  s.attrs["group"] = info.group;
  return s;
}

std::string NotADirectory(const std::string& path) {
  return path + " exists and is not a directory; reconcile will not replace it";
}

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + ErrnoText(errno);
}

// The refusal to remove a folder that holds something: `names` are its first entries.
std::string NotEmpty(const std::string& path, const std::vector<std::string>& names, bool more) {
  std::string list;
  for (const std::string& n : names) list += (list.empty() ? "" : ", ") + n;
  if (more) list += ", ...";
  return path + " is not empty (it holds " + list +
         "); reconcile does not delete a folder that holds files, nor files it did not declare: move them away, "
         "or remove the folder by hand";
}

// --- this machine ---

Result<DirInfo> ReadLocalDir(const std::string& path) {
  DirInfo info;
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return info;
    return Error{Errno("cannot stat", path)};
  }
  if (!S_ISDIR(st.st_mode)) return Error{NotADirectory(path)};
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  info.exists = true;
  info.mode = mode;
  info.owner = UserName(st.st_uid).value_or(std::to_string(st.st_uid));
  info.group = GroupName(st.st_gid).value_or(std::to_string(st.st_gid));
  return info;
}

Status WriteLocalDir(const std::string& path, const std::optional<std::string>& mode,
                     const std::optional<std::string>& owner, const std::optional<std::string>& group) {
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) return Error{NotADirectory(path)};
  } else {
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec) return Error{"cannot create " + path + ": " + ec.message()};
  }
  uid_t uid = static_cast<uid_t>(-1);
  gid_t gid = static_cast<gid_t>(-1);
  if (owner) {
    auto u = UserId(*owner);
    if (!u) return Error{"no user '" + *owner + "' on this machine"};
    uid = *u;
  }
  if (group) {
    auto g = GroupId(*group);
    if (!g) return Error{"no group '" + *group + "' on this machine"};
    gid = *g;
  }
  if (!owner && !group && !mode) return Status::Ok();
  // Through the folder itself, opened without following a link: in a folder others write to,
  // a link swapped in for it after the look above would have had its target chmodded.
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0 && errno == EACCES) {
    // A folder its owner may not read (0300), as an unprivileged operator: changed by its name,
    // as before. Root, the one a planted link could lead astray, reads any folder.
    if ((owner || group) && ::lchown(path.c_str(), uid, gid) != 0) return Error{Errno("cannot chown", path)};
    if (mode && ::chmod(path.c_str(), static_cast<mode_t>(std::stoul(*mode, nullptr, 8))) != 0)
      return Error{Errno("cannot chmod", path)};
    return Status::Ok();
  }
  if (fd < 0) return Error{Errno("cannot open", path)};
  Status s = Status::Ok();
  if ((owner || group) && ::fchown(fd, uid, gid) != 0) s = Error{Errno("cannot chown", path)};
  // After chown, which may clear set-id bits; mkdir's mode is cut by the umask, chmod's is not.
  if (s && mode && ::fchmod(fd, static_cast<mode_t>(std::stoul(*mode, nullptr, 8))) != 0)
    s = Error{Errno("cannot chmod", path)};
  ::close(fd);
  return s;
}

Status RemoveLocalDir(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (!d) {
    if (errno == ENOENT) return Status::Ok();
    return Error{Errno("cannot open", path)};
  }
  std::vector<std::string> names;
  bool more = false;
  while (dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n == "." || n == "..") continue;
    if (names.size() == kNamesShown) {
      more = true;
      break;
    }
    names.push_back(n);
  }
  ::closedir(d);
  if (!names.empty()) return Error{NotEmpty(path, names, more)};
  if (::rmdir(path.c_str()) != 0 && errno != ENOENT) return Error{Errno("cannot remove", path)};
  return Status::Ok();
}

// --- SSH hosts ---

// A line a path: "A" absent, "E" exists but is not a directory, "U" unreadable, or
// "D MODE OWNER GROUP".
constexpr const char* kProbeScript =
    "for p; do "
    "if [ -L \"$p\" ] || { [ -e \"$p\" ] && [ ! -d \"$p\" ]; }; then echo E; "
    "elif [ ! -e \"$p\" ]; then d=$(dirname -- \"$p\"); "
    "while [ ! -e \"$d\" ] && [ \"$d\" != / ]; do d=$(dirname -- \"$d\"); done; "
    "if [ -x \"$d\" ]; then echo A; else echo U; fi; "
    "else printf 'D %s\\n' \"$(stat -c '%a %U %G' -- \"$p\")\"; fi; "
    "done";

std::string ProbeScript(const std::vector<std::string>& paths) {
  std::vector<std::string> set = {"set", "--"};
  set.insert(set.end(), paths.begin(), paths.end());
  return ShellCommand(set) + "; " + kProbeScript;
}

Status Check(const Result<CommandResult>& r, const std::string& what) {
  if (!r) return Error{r.error().message};
  if (r->exit_code != 0) return Error{what + " failed (exit " + std::to_string(r->exit_code) + "): " + r->err};
  return Status::Ok();
}

void ParseProbe(const Result<CommandResult>& r, const std::vector<std::string>& paths, const std::string& where,
                const std::vector<Result<State>*>& out) {
  if (Status s = Check(r, "reading folders on " + where); !s) {
    for (auto* o : out) *o = Error{s.message()};
    return;
  }
  std::istringstream in(r->out);
  std::string line;
  for (std::size_t k = 0; k < paths.size(); ++k) {
    const std::string& path = paths[k];
    if (!std::getline(in, line)) {
      *out[k] = Error{"the probe on " + where + " ended early, at " + path};
      continue;
    }
    DirInfo info;
    if (line == "A") {
      *out[k] = ToState(path, info);
    } else if (line == "E") {
      *out[k] = Error{NotADirectory(path)};
    } else if (line == "U") {
      *out[k] = Error{path + " cannot be read by the SSH user; set sudo = true on the host"};
    } else if (line.rfind("D ", 0) == 0) {
      std::istringstream fields(line.substr(2));
      fields >> info.mode >> info.owner >> info.group;
      info.mode = std::string(info.mode.size() < 4 ? 4 - info.mode.size() : 0, '0') + info.mode;
      info.exists = true;
      *out[k] = ToState(path, info);
    } else {
      *out[k] = Error{"the probe of " + path + " on " + where + " returned '" + line + "'"};
    }
  }
}

Status WriteRemoteDir(RemoteShell& shell, const std::string& path, const std::optional<std::string>& mode,
                      const std::optional<std::string>& owner, const std::optional<std::string>& group) {
  if (Status s = Check(shell.Run({"mkdir", "-p", "--", path}), "mkdir " + path); !s) return s;
  if (owner || group) {
    std::string who = owner.value_or("") + (group ? ":" + *group : "");
    if (Status s = Check(shell.Run({"chown", "--", who, path}), "chown " + path); !s) return s;
  }
  if (mode)
    if (Status s = Check(shell.Run({"chmod", *mode, "--", path}), "chmod " + path); !s) return s;
  return Status::Ok();
}

Status RemoveRemoteDir(RemoteShell& shell, const std::string& path) {
  auto r =
      shell.Read({"sh", "-c", "[ -d \"$1\" ] || exit 0; ls -A -- \"$1\" | head -n " + std::to_string(kNamesShown + 1),
                  "sh", path});
  if (Status s = Check(r, "listing " + path); !s) return s;
  std::vector<std::string> names;
  std::istringstream in(r->out);
  for (std::string n; std::getline(in, n);) names.push_back(n);
  bool more = names.size() > kNamesShown;
  if (more) names.resize(kNamesShown);
  if (!names.empty()) return Error{NotEmpty(path, names, more)};
  // rmdir, not rm -r: a file that lands in it meanwhile makes it fail, not vanish.
  return Check(shell.Run({"sh", "-c", "[ ! -e \"$1\" ] || rmdir -- \"$1\"", "sh", path}), "rmdir " + path);
}

}  // namespace

std::vector<TypeSchema> DirectoryProvider::Types() const {
  return {{
      .name = "directory",
      .doc = "A folder on a host: that it exists, its permission bits, owner and group. Missing parents are made "
             "too (and stay after a rollback unless declared). A `file` or `directory` declared inside it on the "
             "same host is made after it and removed before it. It is removed (ensure = \"absent\", or a rollback "
             "to before reconcile made it) only when empty: reconcile never deletes files it did not declare.",
      .attrs =
          {
              // clang-format off
              {.name = "path", .type = AttrType::kString, .required = true, .identity = true, .pattern = "^/.*[^/]$",
               .pattern_hint = "an absolute path (starting with /, not ending with /)",
               .doc = "absolute path of the folder on the host"},
              {.name = "mode", .type = AttrType::kString, .pattern = "^[0-7]{4}$",
               .pattern_hint = "four octal digits such as \"0755\"",
               .doc = "permission bits as four octal digits"},
              {.name = "owner", .type = AttrType::kString, .check = CheckAccountName,
               .doc = "user that owns the folder"},
              {.name = "group", .type = AttrType::kString, .check = CheckAccountName,
               .doc = "group that owns the folder"},
              // clang-format on
          },
      .uses_host = true,
      .location_attr = "path",
      .is_folder = true,
  }};
}

std::vector<ProbePart> DirectoryProvider::ProbeOn(RemoteShell& shell, const HostConfig& host,
                                                  std::vector<const Target*> targets, std::vector<Result<State>*> out) {
  std::vector<std::string> paths;
  for (const Target* t : targets) paths.push_back(std::get<std::string>(t->desired.at("path")));
  if (host.local) {
    for (std::size_t k = 0; k < paths.size(); ++k) {
      auto info = ReadLocalDir(paths[k]);
      *out[k] = info ? Result<State>(ToState(paths[k], *info)) : Result<State>(info.error());
    }
    return {};
  }
  ProbePart part{ProbeScript(paths), [paths, out, where = shell.Describe()](const Result<CommandResult>& r) {
                   ParseProbe(r, paths, where, out);
                 }};
  return {std::move(part)};
}

Result<State> DirectoryProvider::Apply(const Change& change) {
  const Target& t = change.target;
  const std::string& path = std::get<std::string>(t.desired.at("path"));
  auto mode = OptionalString(t.desired, "mode");
  auto owner = OptionalString(t.desired, "owner");
  auto group = OptionalString(t.desired, "group");
  for (const auto* who : {&owner, &group})
    if (*who)
      if (std::string why = CheckAccountName(**who, t.desired); !why.empty())
        return Error{t.address + ": the " + (who == &owner ? "owner" : "group") + " \"" + **who + "\" " + why};
  if (t.host && !t.host->local) {
    auto shell = hosts_->For(*t.host);
    if (!shell) return shell.error();
    if (change.action == Action::kDelete) {
      if (Status s = RemoveRemoteDir(**shell, path); !s) return Error{s.message()};
      return State{};
    }
    if (Status s = WriteRemoteDir(**shell, path, mode, owner, group); !s) return Error{s.message()};
    Result<State> now = Error{"not probed"};
    RunProbePart(**shell, {ProbeScript({path}), [&](const Result<CommandResult>& r) {
                             ParseProbe(r, {path}, (*shell)->Describe(), {&now});
                           }});
    return now;
  }
  if (change.action == Action::kDelete) {
    if (Status s = RemoveLocalDir(path); !s) return Error{s.message()};
    return State{};
  }
  if (Status s = WriteLocalDir(path, mode, owner, group); !s) return Error{s.message()};
  auto info = ReadLocalDir(path);
  if (!info) return info.error();
  return ToState(path, *info);
}

}  // namespace reconcile
