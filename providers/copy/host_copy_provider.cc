#include "providers/copy/host_copy_provider.h"

#include <chrono>

#include "providers/copy/pipe.h"
#include "providers/copy/tree_digest.h"
#include "providers/ssh/host_connections.h"

namespace reconcile {

namespace {

// One end of a copy: "web:/srv/media" → the host, its shell and the path there.
struct Place {
  std::string text;  // as written, for messages
  const HostConfig* host = nullptr;
  std::string path;
  std::string parent, name;  // the path's folder and last part
};

std::string CheckPlace(const std::string& value, const AttrMap&) {
  std::size_t colon = value.find(':');
  if (colon == std::string::npos || colon == 0)
    return "write HOST:PATH, with HOST a [host.NAME] or local (\"web:/var/backups/app.dump\")";
  std::string path = value.substr(colon + 1);
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  if (path.empty() || path[0] != '/') return "the path after '" + value.substr(0, colon + 1) + "' must be absolute";
  if (path == "/") return "the whole file system cannot be copied; name a folder";
  return "";
}

Result<Place> PlaceOf(const Target& t, const char* attr) {
  Place p;
  p.text = StringAttr(t.desired, attr);
  if (std::string why = CheckPlace(p.text, {}); !why.empty()) return Error{t.address + ": " + attr + ": " + why};
  std::size_t colon = p.text.find(':');
  std::string host = p.text.substr(0, colon);
  p.path = p.text.substr(colon + 1);
  while (p.path.size() > 1 && p.path.back() == '/') p.path.pop_back();
  if (host == "local") {
    p.host = &LocalHost();
  } else if (t.hosts && t.hosts->count(host)) {
    p.host = &t.hosts->at(host);
  } else {
    return Error{t.address + ": " + attr + " names host '" + host + "', which the spec does not declare"};
  }
  std::size_t slash = p.path.rfind('/');
  p.parent = slash == 0 ? "/" : p.path.substr(0, slash);
  p.name = p.path.substr(slash + 1);
  return p;
}

// The temporary names beside the target: what is unpacked, and the folder it replaces.
std::string Unpacked(const Place& p) { return p.parent + "/." + p.name + ".reconcile-copy"; }
std::string Replaced(const Place& p) { return p.parent + "/." + p.name + ".reconcile-old"; }

bool Same(const copy::TreeDigest& a, const copy::TreeDigest& b) {
  return a.kind != copy::TreeDigest::Kind::kAbsent && a.kind == b.kind && a.sha256 == b.sha256 && a.mode == b.mode;
}

State ToState(const Target& t, const copy::TreeDigest& source, const copy::TreeDigest& target) {
  State s;
  s.exists = Same(source, target);
  s.attrs["source"] = StringAttr(t.desired, "source");
  s.attrs["target"] = StringAttr(t.desired, "target");
  s.attrs["kind"] = std::string(copy::KindName(source.kind));
  s.attrs["source_sha256"] = source.sha256;
  // What the target held: "" = nothing. Journaled as the prior, it tells a rollback whether the
  // copy created the target (then it may go) or replaced something (then it stays).
  s.attrs["target_sha256"] = target.sha256;
  s.attrs["files"] = source.files;
  s.attrs["bytes"] = source.bytes;
  return s;
}

Result<RemoteShell*> ShellFor(HostConnections& hosts, const Place& p) {
  auto shell = hosts.For(*p.host);
  if (!shell) return shell.error();
  return *shell;
}

Status Ran(const Result<CommandResult>& r, const std::string& what) {
  if (!r) return Error{what + ": " + r.error().message};
  if (r->exit_code != 0) return Error{what + " (exit " + std::to_string(r->exit_code) + "): " + r->err};
  return Status::Ok();
}

std::string Size(std::int64_t bytes) {
  if (bytes < 10 * 1024) return std::to_string(bytes) + " B";
  if (bytes < 10 * 1024 * 1024) return std::to_string(bytes / 1024) + " KiB";
  return std::to_string(bytes / (1024 * 1024)) + " MiB";
}

Result<State> Copy(HostConnections& hosts, const Change& change) {
  const Target& t = change.target;
  auto from = PlaceOf(t, "source");
  if (!from) return from.error();
  auto to = PlaceOf(t, "target");
  if (!to) return to.error();
  auto src = ShellFor(hosts, *from);
  if (!src) return src.error();
  auto dst = ShellFor(hosts, *to);
  if (!dst) return dst.error();
  auto source = copy::ReadDigest(**src, from->path);
  if (!source) return source.error();
  if (source->kind == copy::TreeDigest::Kind::kAbsent)
    return Error{t.address + ": the source " + from->text + " does not exist"};

  // A fresh private folder beside the target, on the target's file system, so the last step is a rename.
  const std::string unpacked = Unpacked(*to), replaced = Replaced(*to);
  auto prepared = (*dst)->Run({"sh", "-c",
                               "[ -d \"$1\" ] || { echo \"the folder $1 does not exist; create it first (a "
                               "directory resource, or a command)\" >&2; exit 4; }; "
                               "rm -rf -- \"$2\" && mkdir -m 0700 -- \"$2\"",
                               "prepare", to->parent, unpacked});
  if (Status s = Ran(prepared, "cannot prepare " + to->text); !s) return Error{s.message()};
  auto cleanup = [&] { (void)(*dst)->Run({"rm", "-rf", "--", unpacked}); };  // best effort

  auto started = std::chrono::steady_clock::now();
  auto last = started;
  auto moved = [&](std::int64_t bytes) {
    auto now = std::chrono::steady_clock::now();
    if (!change.report || now - last < std::chrono::seconds(5)) return;
    last = now;
    change.report(Size(bytes) + " of " + Size(source->bytes) + " copied");
  };
  // tar keeps mode and mtime (-p), and the owner when the target's side runs as root.
  auto piped = copy::Pipe(**src, {"tar", "-C", from->parent, "-cf", "-", "--", from->name}, **dst,
                          {"tar", "-x", "-p", "-f", "-", "-C", unpacked}, moved);
  if (!piped) {
    cleanup();
    return Error{t.address + ": copying " + from->text + " to " + to->text + " failed: " + piped.error().message};
  }
  if (piped->to.exit_code != 0) {
    cleanup();
    return Error{t.address + ": unpacking on " + (*dst)->Describe() + " failed (exit " +
                 std::to_string(piped->to.exit_code) + "): " + piped->to.err};
  }
  auto copied = copy::ReadDigest(**dst, unpacked + "/" + from->name);
  if (!copied || !Same(*source, *copied)) {
    cleanup();
    return Error{t.address + ": the copy's checksum differs from the source's (" + source->sha256 + " vs " +
                 (copied ? copied->sha256 + ", mode " + copied->mode + " vs " + source->mode : copied.error().message) +
                 "); did the source change while it was copied? The target was left as it was"};
  }
  // A file is renamed over the target in one step; a folder cannot be, so the old one is
  // moved aside first and removed after.
  auto placed = (*dst)->Run({"sh", "-c",
                             "set -e; t=$1; n=$2; o=$3; "
                             "if [ -e \"$t\" ] && { [ -d \"$t\" ] || [ -d \"$n\" ]; }; then "
                             "rm -rf -- \"$o\"; mv -T -- \"$t\" \"$o\"; fi; "
                             "mv -T -f -- \"$n\" \"$t\"; rm -rf -- \"$o\" \"$4\"",
                             "place", to->path, unpacked + "/" + from->name, replaced, unpacked});
  if (Status s = Ran(placed, "cannot move the copy into place at " + to->text); !s) {
    cleanup();
    return Error{s.message()};
  }
  if (change.report)
    change.report(
        Size(source->bytes) + " copied in " +
        std::to_string(
            std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count()) +
        " s, sha256 " + source->sha256.substr(0, 12) + " on both sides");
  auto now = copy::ReadDigest(**dst, to->path);
  if (!now) return now.error();
  return ToState(t, *source, *now);
}

// Rollback: the target goes only when the copy created it (the journaled prior says it was absent).
Result<State> Remove(HostConnections& hosts, const Change& change) {
  const Target& t = change.target;
  auto it = t.desired.find("target_sha256");
  const std::string* before = it == t.desired.end() ? nullptr : AsString(it->second);
  if (!before || !before->empty()) return change.prior;  // Review marked it irreversible: it stays
  auto to = PlaceOf(t, "target");
  if (!to) return to.error();
  auto dst = ShellFor(hosts, *to);
  if (!dst) return dst.error();
  if (Status s = Ran((*dst)->Run({"rm", "-rf", "--", to->path}), "cannot remove " + to->text); !s)
    return Error{s.message()};
  State s;
  s.attrs["source"] = StringAttr(t.desired, "source");
  s.attrs["target"] = StringAttr(t.desired, "target");
  s.attrs["target_sha256"] = std::string();
  return s;
}

}  // namespace

std::vector<TypeSchema> HostCopyProvider::Types() const {
  return {{
      .name = "host_copy",
      .doc = "A file or a folder (recursively) copied from one host to another, mode, owner and mtime kept, streamed "
             "between the two connections (no file on the operator's disk), unpacked beside the target and "
             "renamed into place once its SHA-256 matches the source's. In state when the target holds what the "
             "source holds (content and mode; owner and mtime are carried over, not compared; the owner only when "
             "the target's side runs as root). A one-shot step: a rollback past it leaves the copy (shown as staying). "
             "A copy over a target that holds something else is irreversible (its old content is not kept).",
      .attrs =
          {
              // clang-format off
              {.name = "source", .type = AttrType::kString, .required = true, .identity = true, .names_host = true,
               .check = CheckPlace,
               .doc = "HOST:PATH of the file or folder copied; HOST a [host.NAME] or local"},
              {.name = "target", .type = AttrType::kString, .required = true, .identity = true, .names_host = true,
               .check = CheckPlace,
               .doc = "HOST:PATH it is copied to (its folder must exist); a folder there is replaced as a whole"},
              // clang-format on
          },
      .one_shot = true,
      .probe_when_run = true,  // a source made earlier in the stage (a dump) is read when the copy runs
  }};
}

void HostCopyProvider::Probe(std::span<const Target* const> targets, std::vector<Result<State>>* out) {
  out->assign(targets.size(), Error{"not probed"});
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const Target& t = *targets[i];
    auto read = [&](const char* attr) -> Result<copy::TreeDigest> {
      auto p = PlaceOf(t, attr);
      if (!p) return p.error();
      auto shell = ShellFor(*hosts_, *p);
      if (!shell) return shell.error();
      return copy::ReadDigest(**shell, p->path);
    };
    auto source = read("source");
    auto target = source ? read("target") : Result<copy::TreeDigest>(source.error());
    if (!target) (*out)[i] = target.error();
    else (*out)[i] = ToState(t, *source, *target);
  }
}

Result<State> HostCopyProvider::Apply(const Change& change) {
  if (change.action == Action::kDelete) return Remove(*hosts_, change);
  return Copy(*hosts_, change);
}

void HostCopyProvider::Review(const TypeSchema&, const State& prior, const State& desired, Diff* diff) {
  const std::string target = StringAttr(desired.attrs, "target");
  if (diff->action == Action::kCreate) {
    AttrChange what{"copy", {}, {}};
    std::string sha = StringAttr(prior.attrs, "source_sha256");
    if (sha.empty()) {
      what.set_summary("the source is not there yet; it is read when the step runs");
    } else {
      std::int64_t files = IntAttr(prior.attrs, "files").value_or(0);
      what.set_summary(StringAttr(prior.attrs, "kind") +
                       (StringAttr(prior.attrs, "kind") == "folder" ? ", " + std::to_string(files) + " files" : "") +
                       ", " + Size(IntAttr(prior.attrs, "bytes").value_or(0)) + ", sha256 " + sha.substr(0, 12) + "…");
    }
    diff->changes.push_back(what);
    if (!StringAttr(prior.attrs, "target_sha256").empty()) {
      diff->irreversible = true;
      diff->irreversible_reason = target +
                                  " exists and holds something else; the copy replaces it and its old "
                                  "content is not kept, so a rollback cannot bring it back";
    }
  }
  if (diff->action == Action::kDelete) {
    auto it = desired.attrs.find("target_sha256");
    const std::string* before = it == desired.attrs.end() ? nullptr : AsString(it->second);
    if (!before || !before->empty()) {
      diff->irreversible = true;
      diff->irreversible_reason =
          before ? target + " held something else before the copy, which was not kept: the copy stays in place"
                 : "what " + target + " held before the copy is not known: the copy stays in place";
    }
  }
}

}  // namespace reconcile
