#include "engine/cli/session.h"
#include "engine/run/apply_stages.h"
#include "engine/exec/json_events.h"
#include "engine/journal/pg_journal.h"
#include "engine/os_calls.h"
#include "engine/shell_words.h"

#include <unistd.h>
#include <sys/stat.h>
#include <fcntl.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string_view>
#include <iostream>
#include <set>

namespace reconcile {

namespace {
bool g_json_errors = false;
}  // namespace

void SetJsonErrors() { g_json_errors = true; }

void Fail(const std::string& message) {
  if (g_json_errors) JsonEvents(std::cerr).Emit("error", {{"message", message}});
  else std::cerr << "reconcile: error: " << message << "\n";
}

bool Confirm(const std::string& question) {
  if (!::isatty(STDIN_FILENO)) return false;
  std::cerr << question << " [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return false;
  return answer == "y" || answer == "Y" || answer == "yes";
}

std::string Approve(const std::string& verb, const std::string& question, const std::string& without_terminal) {
  std::cout << std::flush;
  if (!::isatty(STDIN_FILENO))
    return verb + " needs approval and there is no terminal to ask on; nothing was changed. " + without_terminal;
  std::cerr << "\n" << question << " Only 'yes' is accepted.\n  Enter a value: " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer)) return verb + " was not approved (no answer); nothing was changed";
  if (answer != "yes")
    return verb + " was not approved: only 'yes' approves" +
           (answer.empty() || answer.size() > 20 ? std::string() : ", not '" + answer + "'") + "; nothing was changed";
  std::cerr << "\n";
  return "";
}

bool LoadRehearsal(const Spec& spec, const std::string& file, Timings* out) {
  if (file.empty()) {
    *out = LastRehearsal(spec);
    return true;
  }
  auto t = ReadTimings(file);
  if (!t) {
    Fail(t.error().message);
    return false;
  }
  *out = std::move(*t);
  return true;
}

// Written beside its final name and renamed, so a reader never sees half a plan.
// 0600: a saved plan holds the world's current values (hosts, paths, what files hold).
namespace {

int WriteAllAndClose(int fd, const std::string& text) {
  int err = WriteWhole(fd, text);
  if (::close(fd) != 0 && err == 0) err = errno;
  return err;
}

// "-", /dev/stdout, /dev/stderr, /dev/fd/N, /proc/self/fd/N: the descriptor itself, as shells
// and coreutils take them. Reopened by name, a file stdout is redirected to (>> log) would be
// written over from its start, or replaced.
std::optional<int> DescriptorOf(const std::string& path) {
  if (path == "-" || path == "/dev/stdout") return 1;
  if (path == "/dev/stderr") return 2;
  for (std::string_view prefix : {"/dev/fd/", "/proc/self/fd/"}) {
    if (path.rfind(prefix, 0) != 0 || path.size() == prefix.size() || path.size() > prefix.size() + 6) continue;
    std::string_view n = std::string_view(path).substr(prefix.size());
    if (std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::stoi(std::string(n));
  }
  return std::nullopt;
}

}  // namespace

bool WriteAtomically(const std::string& given, const std::string& text) {
  if (auto fd = DescriptorOf(given)) {
    int err = WriteWhole(*fd, text);
    if (err != 0) Fail("cannot write " + given + ": " + ErrnoText(err));
    return err == 0;
  }
  // A symbolic link is written through, as a shell's > does: the file it names is replaced and
  // the link stays. What is not a plain file (a FIFO, a device) is written to as it is:
  // renamed over, it was replaced by a file (as root, even /dev/full). Decided from one look
  // at the name: only a link is followed, so one planted after that look is renamed over,
  // never written through.
  std::string path = given;
  struct stat st {};
  if (::lstat(given.c_str(), &st) != 0) st = {};  // a new file, or one the write below says why not
  const bool link = S_ISLNK(st.st_mode);
  // Not a link or a FIFO planted in a folder others write to: it names, or hands the plan to,
  // what its maker chose.
  if (st.st_mode != 0 && IsPlanted(given, st)) {
    Fail("cannot write " + given +
         ": another user made it, in a folder anyone may write to, and it is not a plain file; reconcile will not "
         "write through it");
    return false;
  }
  if (link) {
    if (::stat(given.c_str(), &st) != 0) {
      Fail("cannot write " + given +
           (errno == ELOOP ? ": its symbolic links go round in a loop; give the file's own path"
                           : ": it is a symbolic link to a file that does not exist; give the file's own path"));
      return false;
    }
    if (char* real = ::realpath(given.c_str(), nullptr)) {
      if (S_ISREG(st.st_mode)) path = real;
      std::free(real);
    }
  }
  if (S_ISDIR(st.st_mode)) {
    Fail("cannot write " + given + ": it is a folder; give a file's path");
    return false;
  }
  if (st.st_mode != 0 && !S_ISREG(st.st_mode)) {
    int fd = ::open(given.c_str(), O_WRONLY | O_CLOEXEC | (link ? 0 : O_NOFOLLOW));
    int err = fd < 0 ? errno : WriteAllAndClose(fd, text);
    if (err != 0) Fail("cannot write " + given + ": " + ErrnoText(err));
    return err == 0;
  }
  std::string tmp = path + ".tmp-" + std::to_string(::getpid());
  int fd = CreateNewFile(tmp, 0600);
  if (fd < 0) {
    int err = errno;
    std::string folder = std::filesystem::path(path).parent_path().string();
    if (folder.empty()) folder = ".";
    Fail("cannot write " + given + ": " +
         (err == ENOENT                   ? "the folder " + folder + " does not exist"
          : err == EACCES || err == EROFS ? "the folder " + folder + " is not writable (" + ErrnoText(err) +
                                                "): the file is replaced whole, through a new file written beside it"
                                          : ErrnoText(err)));
    return false;
  }
  if (int err = WriteAllAndClose(fd, text); err != 0) {
    Fail("cannot write " + given + ": " + ErrnoText(err));
    std::remove(tmp.c_str());
    return false;
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    Fail("cannot write " + given + ": " + ErrnoText(errno));
    std::remove(tmp.c_str());
    return false;
  }
  return true;
}

bool RefusedAsOwnFile(const Session& session, const std::string& flag, const std::string& path) {
  if (DescriptorOf(path)) return false;
  const Spec& spec = session.spec();
  std::vector<std::pair<std::string, std::string>> own;  // path, what it is
  for (const std::string& source : session.load.sources->Paths()) own.push_back({source, "the spec file"});
  if (!spec.state_path.empty())
    for (const char* suffix : {"", ".lock", ".checkpoint"})
      own.push_back(
          {spec.state_path + suffix, std::string("the journal") + (*suffix ? "'s " + std::string(suffix + 1) : "")});
  std::error_code ec;
  auto out = std::filesystem::weakly_canonical(path, ec);
  if (ec) return false;
  for (const auto& [file, what] : own) {
    auto canonical = std::filesystem::weakly_canonical(file, ec);  // both as given, from here
    if (!ec && canonical == out) {
      Fail(flag + " " + path + " is " + what + " " + file +
           ": written there, it would be lost; give another path. "
           "Nothing was written");
      return true;
    }
  }
  return false;
}

std::string CommandFor(const CommonOptions& common, const std::string& verb) {
  std::string line = "reconcile " + verb + " " + ShellQuote(common.spec);
  if (!common.env.empty()) line += " --env " + ShellQuote(common.env);
  for (const std::string& kv : common.vars) line += " --var " + ShellQuote(kv);
  return line;
}

std::string UnfinishedRollbackNote(const Spec& spec, const History& h, const CommonOptions& common) {
  // One that had un-completed nothing leaves nothing to finish: said, it would be asked forever.
  if (!h.RollbackUnfinished() || h.last_begin->undo.empty()) return "";
  const std::string how = h.last_end == "failed"        ? "it failed"
                          : h.last_end == "interrupted" ? "it was interrupted"
                          : h.last_end == "stopped"     ? "it stopped"
                          : h.last_end.empty()          ? "it was cut off"
                                                        : "it ended " + h.last_end;
  std::string note = "the rollback to stage '" + h.last_begin->to + "' started " + h.last_begin_at +
                     " did not finish (" + how + "), so the stages after it are not complete. ";
  // A revert cut off with nothing to tell: finishing takes --rerun, and apply refuses until then.
  if (auto blind = CutOffBlind(spec, h, "rollback"); !blind.empty())
    return note + CutOffBlindText(spec, *blind.front()) + ". " +
           CutOffBlindFix(spec, *blind.front(), CommandFor(common, "rollback"));
  return note + "Finish it: " + CommandFor(common, "rollback") + " --to " + ShellQuote(h.last_begin->to) +
         "; or go forward: " + CommandFor(common, "apply");
}

void EndSession::operator()(Session* session) const {
  if (session->journal) session->journal->Close();
  static auto* kept = new std::vector<Session*>;
  kept->push_back(session);
}

SessionHandle OpenSession(const Registry& registry, const CommonOptions& common, bool with_journal) {
  SessionHandle session(new Session);
  LoadOptions options;
  options.env = common.env;
  for (const std::string& kv : common.vars) {
    std::size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      Fail("--var takes NAME=VALUE, got '" + kv + "'");
      return nullptr;
    }
    options.vars[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  session->load = LoadSpec(common.spec, options, registry);
  if (session->load.spec) session->graph.Build(*session->load.spec, &session->load.diags);
  if (!session->load.diags.empty()) {
    // A warning may be what explains an error (`stages` written below [vars]): said first.
    std::cerr << session->load.diags.RenderWarnings(*session->load.sources);
    std::cerr << session->load.diags.Render(*session->load.sources);
    std::size_t n = session->load.diags.size();
    std::cerr << "reconcile: " << n << (n == 1 ? " error" : " errors")
              << " in the spec; nothing was probed or changed.\n";
    return nullptr;
  }
  // What loads but is likely not what was meant: said before anything runs, with its line,
  // as text like the spec's errors (with --json too: docs/json-events.md).
  std::cerr << session->load.diags.RenderWarnings(*session->load.sources);
  session->load.sources->ForgetTexts();
  if (!with_journal) return session;
  const Spec& spec = session->spec();
  if (spec.state_key) {
    auto key = ResolveSecret(std::get<std::string>(spec.state_key->value), spec.dir);
    if (!key) {
      Fail(spec.state_key->loc.ToString() + ": 'key' of [state]: " + key.error().message);
      return nullptr;
    }
    session->sealer = Sealer(*key);
  }
  if (spec.state_url) {
    auto url = spec.state_url->secret ? ResolveSecret(std::get<std::string>(spec.state_url->value), spec.dir)
                                      : Result<std::string>(std::get<std::string>(spec.state_url->value));
    if (!url) {
      Fail(spec.state_url->loc.ToString() + ": 'url' of [state]: " + url.error().message);
      return nullptr;
    }
    std::string password;
    if (spec.state_password) {
      auto pw = ResolveSecret(std::get<std::string>(spec.state_password->value), spec.dir);
      if (!pw) {
        Fail(spec.state_password->loc.ToString() + ": 'password' of [state]: " + pw.error().message);
        return nullptr;
      }
      password = *pw;
    }
    session->journal = OpenPgJournal(*url, password, spec.JournalName());
  } else {
    // Before 0.2 a run with --env wrote the spec's own journal. Said once, while the overlay's
    // journal is still empty, so a rehearsal's history is not thought lost.
    std::filesystem::path own = spec.state_path, shared = own.parent_path() / (spec.name + ".journal");
    if (!spec.options.env.empty() && own.filename() == spec.JournalName() + ".journal" &&
        !std::filesystem::exists(own) && std::filesystem::exists(shared))
      std::cerr << "reconcile: note: runs with --env " << spec.options.env << " keep their journal in " << own.string()
                << " (new in 0.2); " << shared.string()
                << " holds the runs without --env, and any made with it before: move it there if they were "
                << spec.options.env << " runs\n";
    session->journal = OpenFileJournal(spec.state_path);
  }
  if (!Refresh(session.get())) return nullptr;
  return session;
}

bool RerunNamesSteps(const Spec& spec, const std::set<std::string>& rerun) {
  for (const std::string& address : rerun) {
    const Resource* r = spec.Find(address);
    if (r && r->IsOnce()) continue;
    std::vector<std::string> steps;
    for (const Resource& other : spec.resources)
      if (other.IsOnce()) steps.push_back(other.address);
    std::string meant = DidYouMean(address, steps);
    Fail("--rerun " + address + ": " +
         (r ? "it is not a step that runs once (only those are held back when cut off)."
            : "the spec declares no such step" + (meant.empty() ? "." : meant)) +
         " Nothing was changed.");
    return false;
  }
  return true;
}

bool RefusedForOldSharedJournal(const Session& session) {
  const Spec& spec = session.spec();
  if (spec.options.env.empty() || spec.state_url || session.history().last_seq != 0) return false;
  std::filesystem::path own = spec.state_path, shared = own.parent_path() / (spec.name + ".journal");
  if (own.filename() != spec.JournalName() + ".journal" || !std::filesystem::exists(shared)) return false;
  auto records = OpenFileJournal(shared.string())->Read();
  if (!records) return false;
  bool before = std::any_of(records->begin(), records->end(), [](const JournalRecord& r) {
    auto at = ParseUtc(r.at);
    return r.kind == "begin" && at && at->whole_seconds;
  });
  if (!before) return false;
  const std::string env = spec.options.env;
  Fail(shared.string() + " holds runs from before 0.2, when runs with --env " + env +
       " shared it with those without; they now keep their own journal, " + own.string() +
       ", which is empty, so nothing was changed (a run would start over, or find nothing to undo). If those runs "
       "were made with --env " +
       env + ", move it: mv " + ShellQuote(shared.string()) + " " + ShellQuote(own.string()) + ". If none was, start " +
       env + "'s journal: printf '{\"reconcile_journal\":1}\\n' > " + ShellQuote(own.string()));
  return true;
}

bool Refresh(Session* session) {
  Status s = RefreshHistory(session);
  if (!s) Fail(s.message());
  return bool(s);
}

bool CloseFinished(Session* session) {
  Status s = CloseFinishedSteps(session, [](const std::string& line) { std::cerr << "reconcile: " << line << "\n"; });
  if (!s) Fail(s.message());
  return bool(s);
}

}  // namespace reconcile
