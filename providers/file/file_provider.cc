#include "providers/file/file_provider.h"
#include "providers/ssh/host_connections.h"

#include <algorithm>
#include <map>

#include "providers/file/local_files.h"
#include "providers/file/remote_files.h"
#include "engine/diagnostics.h"

namespace reconcile {

namespace {

State ToState(const std::string& path, const file::FileInfo& info) {
  State s;
  s.exists = info.exists;
  if (!info.exists) return s;
  s.attrs["path"] = path;
  s.attrs["content"] = info.content;
  s.attrs["mode"] = info.mode;
  s.attrs["owner"] = info.owner;
  s.attrs["group"] = info.group;
  return s;
}

}  // namespace

// A user or group name goes to chown as "OWNER:GROUP": a ':' in either would move the split,
// and a leading '-' (`--reference=/etc/shadow`) would be read as an option. POSIX's portable
// names (letters, digits, '.', '_', '-'; not first '-'), digits alone included.
std::string CheckAccountName(const std::string& name, const AttrMap&) {
  if (name.empty()) return "is empty; leave it out to keep the file's current one";
  if (name[0] == '-') return "starts with '-', which chown would read as an option, not a name";
  // The file's owner is read back as a name (stat %U), so a number would never compare equal.
  if (std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return "is a number; write the account's name (the owner is read back as a name, so a number would be "
           "changed again on every apply)";
  for (char c : name) {
    bool portable =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!portable)
      return std::string(c == ':' ? "holds ':', which chown reads as the split between owner and group; set "
                                    "owner and group apart"
                                  : "holds " + CharShown(c)) +
             "; a user or group is a POSIX portable name (letters, digits, '.', '_', '-'; not first '-')";
  }
  return "";
}

std::vector<TypeSchema> FileProvider::Types() const {
  return {{
      .name = "file",
      .doc = "A file on a host: its exact content, permission bits, owner and group.",
      .attrs =
          {
              // clang-format off
              {.name = "path", .type = AttrType::kString, .required = true, .identity = true, .pattern = "^/.*",
               .pattern_hint = "an absolute path (starting with /)",
               .doc = "absolute path of the file on the host"},
              {.name = "content", .type = AttrType::kString, .secret_ok = true, .secret_bytes = true,
               .doc = "the file's exact content"},  // content = "file:PATH" is the file's bytes, as source = PATH is
              {.name = "source", .type = AttrType::kString, .file_for = "content",
               .doc = "a local file (relative to the spec) whose text is the content"},
              {.name = "mode", .type = AttrType::kString, .pattern = "^[0-7]{4}$",
               .pattern_hint = "four octal digits such as \"0644\"",
               .doc = "permission bits as four octal digits"},
              {.name = "owner", .type = AttrType::kString, .check = CheckAccountName,
               .doc = "user that owns the file"},
              {.name = "group", .type = AttrType::kString, .check = CheckAccountName,
               .doc = "group that owns the file"},
              // clang-format on
          },
      .uses_host = true,
      .location_attr = "path",
  }};
}

std::vector<ProbePart> FileProvider::ProbeOn(RemoteShell& shell, const HostConfig& host,
                                             std::vector<const Target*> targets, std::vector<Result<State>*> out) {
  std::vector<std::string> paths;
  for (const Target* t : targets) paths.push_back(std::get<std::string>(t->desired.at("path")));
  if (host.local) {
    for (std::size_t k = 0; k < paths.size(); ++k) {
      auto info = file::ReadLocalFile(paths[k]);
      *out[k] = info ? Result<State>(ToState(paths[k], *info)) : Result<State>(info.error());
    }
    return {};
  }
  ProbePart part{file::ProbeFilesScript(paths), [paths, out, where = shell.Describe()](const Result<CommandResult>& r) {
                   auto infos = file::ParseProbeResult(r, paths, where);
                   for (std::size_t k = 0; k < paths.size(); ++k) {
                     if (!infos) *out[k] = infos.error();
                     else if (!(*infos)[k]) *out[k] = (*infos)[k].error();
                     else *out[k] = ToState(paths[k], *(*infos)[k]);
                   }
                 }};
  return {std::move(part)};
}

Result<State> FileProvider::Apply(const Change& change) {
  const Target& t = change.target;
  const std::string& path = std::get<std::string>(t.desired.at("path"));
  file::FileWrite w;
  w.content = OptionalString(t.desired, "content");
  w.mode = OptionalString(t.desired, "mode");
  w.owner = OptionalString(t.desired, "owner");
  w.group = OptionalString(t.desired, "group");
  for (const auto* who : {&w.owner, &w.group})
    if (*who)
      if (std::string why = CheckAccountName(**who, t.desired); !why.empty())
        return Error{t.address + ": the " + (who == &w.owner ? "owner" : "group") + " \"" + **who + "\" " + why};
  if (t.host && !t.host->local) {
    auto shell = hosts_->For(*t.host);
    if (!shell) return shell.error();
    Status s = change.action == Action::kDelete ? file::RemoveRemoteFile(**shell, path)
                                                : file::WriteRemoteFile(**shell, path, w, change.prior.exists);
    if (!s) return Error{s.message()};
    if (change.action == Action::kDelete) return State{};
    auto infos = file::ReadRemoteFiles(**shell, {path});
    if (!infos) return infos.error();
    if (!(*infos)[0]) return (*infos)[0].error();
    return ToState(path, *(*infos)[0]);
  }
  if (change.action == Action::kDelete) {
    if (Status s = file::RemoveLocalFile(path); !s) return Error{s.message()};
    return State{};
  }
  if (Status s = file::WriteLocalFile(path, w); !s) return Error{s.message()};
  auto info = file::ReadLocalFile(path);
  if (!info) return info.error();
  return ToState(path, *info);
}

}  // namespace reconcile
