#include "providers/file/remote_files.h"

#include <algorithm>
#include <cstdint>
#include <string_view>

#include "engine/hash.h"
#include "providers/ssh/host_provider.h"

namespace reconcile::file {

namespace {

// A batch of paths costs a fixed number of processes, however many there are: each path is
// classified with shell builtins alone, one line a path — "A" absent, "E" exists but is not a
// regular file, "U" unreadable, "F" a file to read — and the files to read, NUL-separated in a
// temporary list, go to one `stat` and one `cat | base64` (xargs splits a list longer than the
// host's argument limit into several). After the letters of a batch that read any file:
//   SIZE MODE OWNER \n GROUP \n    per file, in order (names may hold spaces: each ends a line)
//   S STAT_EXIT \n
//   BASE64 OF EVERY "F" FILE'S BYTES, ONE AFTER ANOTHER \n
//   C 0 (cat read every file) or C 1 \n
// and ParseProbeOutput cuts the content by the sizes stat gave. A size is no length for the
// files of /proc (0) and /sys (4096, whatever they hold), so a file that is empty by stat or
// lies under either is read on its own, one process each, and its line is
// "R BASE64 BASE64_EXIT" instead of "F" (it is stat'ed with the others, but not cat'ed).
constexpr const char* kProbeScript =
    "t=; trap 'trap \"\" HUP INT PIPE TERM; [ -z \"$t\" ] || rm -rf -- \"$t\"' EXIT\n"
    "t=$(trap '' HUP INT TERM; mktemp -d) || exit 1\n"
    "for p; do\n"
    "if [ -L \"$p\" ] || { [ -e \"$p\" ] && [ ! -f \"$p\" ]; }; then echo E\n"
    // Absent, unless a folder on the way is closed to the SSH user: then nobody can tell. The
    // folders are found as dirname would, by parameter expansion (no process a path).
    "elif [ ! -e \"$p\" ]; then d=$p\n"
    "while :; do\n"
    "while [ \"$d\" != / ] && [ \"${d%/}\" != \"$d\" ]; do d=${d%/}; done\n"
    "case $d in */*) d=${d%/*}; d=${d:-/} ;; *) d=. ;; esac\n"
    "if [ ! -e \"$d\" ] && [ \"$d\" != / ]; then continue; fi; break\n"
    "done\n"
    "if [ -x \"$d\" ]; then echo A; else echo U; fi\n"
    "elif [ ! -r \"$p\" ]; then echo U\n"
    // A case that matches nothing is true.
    "elif [ -s \"$p\" ] && case $p in /proc/*|/sys/*) false ;; esac; then\n"
    "echo F; printf '%s\\0' \"$p\" >&3; printf '%s\\0' \"$p\" >&4\n"
    "else printf '%s\\0' \"$p\" >&3; printf 'R '; base64 -w0 -- \"$p\"; echo \" $?\"; fi\n"
    "done 3>\"$t/stat\" 4>\"$t/cat\"\n"
    "if [ -s \"$t/stat\" ]; then\n"
    "xargs -0 stat -c '%s %a %U\n%G' -- <\"$t/stat\" >\"$t/before\"; r=$?; cat \"$t/before\"; echo \"S $r\"\n"
    // cat's failure (a file gone since) leaves a mark; so does a size that moved while cat
    // read, which would cut the bytes apart wrong even where the total stayed the same (one
    // file shorter by what another grew).
    "{ xargs -0 -r cat -- <\"$t/cat\" || : >\"$t/failed\"; } | base64 -w0; echo\n"
    "xargs -0 stat -c '%s %a %U\n%G' -- <\"$t/stat\" >\"$t/after\" || : >\"$t/failed\"\n"
    "[ \"$(cat \"$t/before\")\" = \"$(cat \"$t/after\")\" ] || : >\"$t/failed\"\n"
    "if [ -e \"$t/failed\" ]; then echo 'C 1'; else echo 'C 0'; fi\n"
    "fi";

std::string Mode4(const std::string& mode) { return std::string(mode.size() < 4 ? 4 - mode.size() : 0, '0') + mode; }

Status Check(const Result<CommandResult>& r, const std::string& what) {
  if (!r) return Error{r.error().message};
  if (r->exit_code != 0) return Error{what + " failed (exit " + std::to_string(r->exit_code) + "): " + r->err};
  return Status::Ok();
}

bool AllDigits(std::string_view s, char highest = '9') {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > highest) return false;
  return true;
}

// Takes the line that starts at *pos (without its '\n'); false at the end of `text`.
bool NextLine(std::string_view text, std::size_t* pos, std::string_view* line) {
  if (*pos >= text.size()) return false;
  std::size_t end = text.find('\n', *pos);
  if (end == std::string_view::npos) end = text.size();
  *line = text.substr(*pos, end - *pos);
  *pos = end + 1;
  return true;
}

// Takes the last line of *text off it (its '\n' first, if any); false when nothing is left.
bool LastLine(std::string_view* text, std::string_view* line) {
  if (text->empty()) return false;
  std::string_view t = *text;
  if (t.back() == '\n') t.remove_suffix(1);
  std::size_t nl = t.rfind('\n');
  *line = nl == std::string_view::npos ? t : t.substr(nl + 1);
  *text = nl == std::string_view::npos ? std::string_view() : t.substr(0, nl + 1);
  return true;
}

}  // namespace

Result<std::vector<Result<FileInfo>>> ParseProbeOutput(const std::string& out, const std::vector<std::string>& paths) {
  std::vector<Result<FileInfo>> infos;
  // The paths marked F or R, in order, whose details follow; an F's content is in the cat line.
  struct Read {
    std::size_t k;
    bool cat;
  };
  std::vector<Read> read;
  std::string_view text(out);
  std::size_t pos = 0;
  std::string_view line;
  for (std::size_t k = 0; k < paths.size(); ++k) {
    const std::string& path = paths[k];
    if (!NextLine(text, &pos, &line)) return Error{"the probe ended early, at " + path};
    if (line == "A") {
      infos.push_back(FileInfo{});
    } else if (line == "E") {
      infos.push_back(Error{path + " exists and is not a regular file; reconcile will not replace it"});
    } else if (line == "U") {
      infos.push_back(Error{path + " cannot be read by the SSH user; set sudo = true on the host"});
    } else if (line == "F") {
      infos.push_back(FileInfo{});
      read.push_back({k, true});
    } else if (line.rfind("R ", 0) == 0) {
      // "R BASE64 EXIT": a file read on its own (empty by stat, or under /proc or /sys).
      std::size_t sp = line.rfind(' ');
      std::string_view rc = line.substr(sp + 1);
      if (sp < 2 || !AllDigits(rc)) return Error{"the probe of " + path + " returned '" + std::string(line) + "'"};
      FileInfo info;
      if (rc != "0") {
        infos.push_back(Error{path + " could not be read (base64 exit " + std::string(rc) +
                              "); check that the SSH user may read it, or set sudo = true on the host"});
      } else if (!Base64Decode(line.substr(2, sp - 2), &info.content)) {
        return Error{"the probe of " + path + " returned damaged content"};
      } else {
        infos.push_back(std::move(info));
      }
      read.push_back({k, false});
    } else {
      return Error{"the probe of " + path + " returned '" + std::string(line) + "'"};
    }
  }
  if (read.empty()) return infos;

  // The end is fixed: "S STAT_EXIT", the content in base64, "C CAT_OK"; between the letters
  // and it, two lines of stat a file.
  std::string_view details = text.substr(std::min(pos, text.size()));
  std::string_view stat_line, content_line, cat_line;
  const std::string& first = paths[read.front().k];
  if (!LastLine(&details, &cat_line) || !LastLine(&details, &content_line) || !LastLine(&details, &stat_line) ||
      stat_line.rfind("S ", 0) != 0 || cat_line.rfind("C ", 0) != 0)
    return Error{"the probe ended early, at " + first};
  const std::string changed =
      "the files changed while they were being read (a file written, replaced or removed meanwhile); "
      "run the command again";
  if (stat_line != "S 0" || cat_line != "C 0") return Error{changed};

  std::uint64_t total = 0;
  std::vector<std::uint64_t> sizes;  // of the F files
  std::size_t at = 0;
  for (const Read& f : read) {
    const std::string& path = paths[f.k];
    std::string_view head, group;
    if (!NextLine(details, &at, &head) || !NextLine(details, &at, &group))
      return Error{"the probe ended early, at " + path};
    // SIZE MODE OWNER: the owner is the rest of the line, spaces and all.
    std::size_t s1 = head.find(' ');
    std::size_t s2 = s1 == std::string_view::npos ? s1 : head.find(' ', s1 + 1);
    if (s2 == std::string_view::npos || !AllDigits(head.substr(0, s1)) || s1 > 19 ||
        !AllDigits(head.substr(s1 + 1, s2 - s1 - 1), '7') || s2 - s1 - 1 > 4)
      return Error{"the probe of " + path + " returned '" + std::string(head) + "'"};
    if (f.cat) {
      sizes.push_back(std::stoull(std::string(head.substr(0, s1))));
      total += sizes.back();
    }
    if (!infos[f.k]) continue;  // an R file that could not be read
    FileInfo& info = *infos[f.k];
    info.exists = true;
    info.mode = Mode4(std::string(head.substr(s1 + 1, s2 - s1 - 1)));
    info.owner = std::string(head.substr(s2 + 1));
    info.group = std::string(group);
  }
  // More lines than files: an owner or group name with a line break in it.
  if (at < details.size())
    return Error{"the probe of " + first +
                 " returned more lines of details than files: an owner or group name with a line break in "
                 "it, which reconcile cannot read; rename that user or group on the host"};

  std::string content;
  if (!Base64Decode(content_line, &content)) {
    auto cat = std::find_if(read.begin(), read.end(), [](const Read& f) { return f.cat; });
    const std::string& one = cat == read.end() ? first : paths[cat->k];
    return Error{"the probe of " + one +
                 (sizes.size() > 1 ? " and " + std::to_string(sizes.size() - 1) + " more files" : "") +
                 " returned damaged content"};
  }
  if (content.size() != total)
    return Error{changed + " (stat counted " + std::to_string(total) + " bytes, " + std::to_string(content.size()) +
                 " were read)"};
  std::size_t from = 0, i = 0;
  for (const Read& f : read) {
    if (!f.cat) continue;
    infos[f.k]->content = content.substr(from, sizes[i]);
    from += sizes[i++];
  }
  return infos;
}

std::string ProbeFilesScript(const std::vector<std::string>& paths) {
  std::vector<std::string> set = {"set", "--"};
  set.insert(set.end(), paths.begin(), paths.end());
  return ShellCommand(set) + "; " + kExitOnSignal + "\n" + kProbeScript;
}

Result<std::vector<Result<FileInfo>>> ParseProbeResult(const Result<CommandResult>& r,
                                                       const std::vector<std::string>& paths,
                                                       const std::string& where) {
  if (Status s = Check(r, "reading files on " + where); !s) return Error{s.message()};
  auto infos = ParseProbeOutput(r->out, paths);
  if (!infos) {
    // What stat or cat said, if anything (a file they could no longer find, say).
    std::string said = r->err.substr(0, r->err.find('\n'));
    return Error{"reading files on " + where + ": " + infos.error().message + (said.empty() ? "" : " — " + said)};
  }
  return infos;
}

Result<std::vector<Result<FileInfo>>> ReadRemoteFiles(RemoteShell& shell, const std::vector<std::string>& paths) {
  return ParseProbeResult(ReadScript(shell, ProbeFilesScript(paths)), paths, shell.Describe());
}

Status WriteRemoteFile(RemoteShell& shell, const std::string& path, const FileWrite& w, bool exists) {
  if (w.content || !exists) {
    FileWriteRequest req{path, w.content.value_or(""), w.mode.value_or("0644"), w.owner, w.group};
    if (exists && !w.mode) {
      // A rewrite keeps the mode the file had unless the spec names one.
      auto r = shell.Read({"stat", "-c", "%a", "--", path});
      if (Status s = Check(r, "stat " + path); !s) return s;
      req.mode = Mode4(r->out.substr(0, r->out.find('\n')));
    }
    return shell.WriteFile(req);
  }
  // Metadata only: the content is never at risk.
  if (w.mode) {
    if (Status s = Check(shell.Run({"chmod", *w.mode, "--", path}), "chmod " + path); !s) return s;
  }
  if (w.owner || w.group) {
    std::string who = w.owner.value_or("") + (w.group ? ":" + *w.group : "");
    if (Status s = Check(shell.Run({"chown", "--", who, path}), "chown " + path); !s) return s;
  }
  return Status::Ok();
}

Status RemoveRemoteFile(RemoteShell& shell, const std::string& path) {
  return Check(shell.Run({"rm", "-f", "--", path}), "rm " + path);
}

}  // namespace reconcile::file
