#include "providers/file/file_provider.h"

#include "providers/file/local_files.h"

namespace reconcile {

namespace {

Status NeedLocal(const Target& t) {
  if (t.host && t.host->local) return Status::Ok();
  return Error{t.address + " is on host '" + (t.host ? t.host->name : std::string("?")) +
               "', reached over SSH, which this build of the file provider cannot do yet; "
               "use host = \"local\""};
}

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

std::optional<std::string> Get(const AttrMap& attrs, const char* key) {
  auto it = attrs.find(key);
  if (it == attrs.end()) return std::nullopt;
  if (const auto* s = AsString(it->second)) return *s;
  return std::nullopt;
}

}  // namespace

std::vector<TypeSchema> FileProvider::Types() const {
  TypeSchema t;
  t.name = "file";
  t.doc = "A file on a host: its exact content, permission bits, owner and group.";
  t.uses_host = true;
  AttrSchema path{"path", AttrType::kString, "absolute path of the file on the host"};
  path.required = true;
  path.identity = true;
  path.pattern = "^/.*";
  path.pattern_hint = "an absolute path (starting with /)";
  AttrSchema content{"content", AttrType::kString, "the file's exact content"};
  content.secret_ok = true;
  AttrSchema source{"source", AttrType::kString,
                    "a local file (relative to the spec) whose text is the content"};
  source.file_for = "content";
  AttrSchema mode{"mode", AttrType::kString, "permission bits as four octal digits"};
  mode.pattern = "^[0-7]{4}$";
  mode.pattern_hint = "four octal digits such as \"0644\"";
  t.attrs = {path, content, source, mode, {"owner", AttrType::kString, "user that owns the file"},
             {"group", AttrType::kString, "group that owns the file"}};
  return {t};
}

void FileProvider::Probe(std::span<const Target* const> targets, std::vector<Result<State>>* out) {
  out->clear();
  out->reserve(targets.size());
  for (const Target* t : targets) {
    if (Status s = NeedLocal(*t); !s) {
      out->push_back(Error{s.message()});
      continue;
    }
    const std::string& path = std::get<std::string>(t->desired.at("path"));
    auto info = file::ReadLocalFile(path);
    if (!info) out->push_back(info.error());
    else out->push_back(ToState(path, *info));
  }
}

Result<State> FileProvider::Apply(const Change& change) {
  const Target& t = change.target;
  if (Status s = NeedLocal(t); !s) return Error{s.message()};
  const std::string& path = std::get<std::string>(t.desired.at("path"));
  if (change.action == Action::kDelete) {
    if (Status s = file::RemoveLocalFile(path); !s) return Error{s.message()};
    return State{};
  }
  file::FileWrite w;
  w.content = Get(t.desired, "content");
  w.mode = Get(t.desired, "mode");
  w.owner = Get(t.desired, "owner");
  w.group = Get(t.desired, "group");
  if (Status s = file::WriteLocalFile(path, w); !s) return Error{s.message()};
  auto info = file::ReadLocalFile(path);
  if (!info) return info.error();
  return ToState(path, *info);
}

}  // namespace reconcile
