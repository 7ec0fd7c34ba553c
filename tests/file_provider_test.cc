// The `file` type on the local machine, against real files in a temporary folder.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/hash.h"
#include "providers/file/file_provider.h"
#include "providers/file/remote_files.h"
#include "providers/ssh/host_connections.h"
#include "providers/ssh/local_shell.h"
#include "tests/support/test_world.h"

#include "tests/support/temp_dir.h"

using namespace reconcile;
namespace fs = std::filesystem;

namespace {

void Write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

HostConfig Local() {
  HostConfig h;
  h.name = "local";
  h.local = true;
  return h;
}

Result<State> ProbeOne(FileProvider& p, const Target& t) {
  std::vector<const Target*> batch = {&t};
  std::vector<Result<State>> out;
  p.Probe(batch, &out);
  REQUIRE(out.size() == 1);
  return out[0];
}

}  // namespace

TEST_CASE("probe, create, change mode only, rewrite, delete: the real file follows") {
  TempDir dir;
  FileProvider provider{std::make_shared<HostConnections>()};
  HostConfig local = Local();
  TypeSchema schema = provider.Types()[0];
  std::string path = (dir.path / "motd").string();
  Target t{"file.motd", &schema, {{"path", path}, {"content", "hello\n"}, {"mode", "0640"}}, &local};

  auto absent = ProbeOne(provider, t);
  REQUIRE(absent);
  CHECK_FALSE(absent->exists);

  auto created = provider.Apply(Change{Action::kCreate, t, *absent, {}});
  REQUIRE_MESSAGE(created, (created.ok() ? std::string() : created.error().message));
  CHECK(ReadText(path) == "hello\n");
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0640);
  CHECK(created->attrs.at("mode") == Value("0640"));

  auto probed = ProbeOne(provider, t);
  REQUIRE(probed);
  CHECK(probed->exists);
  CHECK(probed->attrs.at("content") == Value("hello\n"));
  CHECK(probed->attrs.at("path") == Value(path));
  if (::getuid() == 0) CHECK(probed->attrs.at("owner") == Value("root"));

  // A mode-only change leaves the file itself in place (same inode, content untouched).
  ino_t inode = st.st_ino;
  Target mode_only{"file.motd", &schema, {{"path", path}, {"mode", "0600"}}, &local};
  REQUIRE(provider.Apply(Change{Action::kUpdate, mode_only, *probed, {"mode"}}));
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(st.st_ino == inode);
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(ReadText(path) == "hello\n");

  // A content change is written beside and renamed over: a new inode, no temp file left.
  Target rewrite{"file.motd", &schema, {{"path", path}, {"content", "moved\n"}}, &local};
  REQUIRE(provider.Apply(Change{Action::kUpdate, rewrite, *probed, {"content"}}));
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(st.st_ino != inode);
  CHECK((st.st_mode & 07777) == 0600);  // kept: the spec did not say
  CHECK(ReadText(path) == "moved\n");
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);

  REQUIRE(provider.Apply(Change{Action::kDelete, rewrite, *probed, {}}));
  CHECK_FALSE(fs::exists(path));
}

TEST_CASE("the file provider refuses what it must not touch, saying why") {
  TempDir dir;
  FileProvider provider{std::make_shared<HostConnections>()};
  HostConfig local = Local();
  TypeSchema schema = provider.Types()[0];

  fs::create_directory(dir.path / "sub");
  Target on_dir{"file.d", &schema, {{"path", (dir.path / "sub").string()}, {"content", "x"}}, &local};
  auto probed = ProbeOne(provider, on_dir);
  REQUIRE_FALSE(probed);
  CHECK(probed.error().message ==
        (dir.path / "sub").string() + " exists and is not a regular file; reconcile will not replace it");

  Target no_parent{"file.n", &schema, {{"path", (dir.path / "missing" / "f").string()}, {"content", "x"}}, &local};
  auto r = provider.Apply(Change{Action::kCreate, no_parent, State{}, {}});
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "the folder " + (dir.path / "missing").string() +
                                 " does not exist; create it first (or add a resource that does)");

  HostConfig remote;
  remote.name = "web";
  remote.address = "127.0.0.1";
  remote.port = 1;  // nothing listens there
  Target far{"file.far", &schema, {{"path", "/etc/motd"}}, &remote};
  auto f = ProbeOne(provider, far);
  REQUIRE_FALSE(f);
  CHECK(f.error().message == "host web (127.0.0.1:1): cannot connect to 127.0.0.1:1: Connection refused");
}

TEST_CASE("plan against real files: source files, modes, and a converged spec") {
  TempDir dir;
  Write(dir.path / "motd.txt", "from a source file\n");
  Write(dir.path / "stale", "old\n");
  ::chmod((dir.path / "stale").c_str(), 0644);
  std::string spec = std::string(kHeader) + "[file.motd]\nhost = \"local\"\npath = \"" + (dir.path / "motd").string() +
                     "\"\nsource = \"motd.txt\"\n" + "[file.stale]\nhost = \"local\"\npath = \"" +
                     (dir.path / "stale").string() +
                     "\"\nmode = \"0600\"\n[file.stale.at.three]\nensure = \"absent\"\n";
  TestWorld w;
  LoadResult load = w.Load(spec, {}, (dir.path / "cutover.toml").string());
  REQUIRE_MESSAGE(load.spec, TestWorld::Errors(load));
  auto plan = TestWorld::PlanOf(load);
  REQUIRE_MESSAGE(plan, (plan ? std::string() : plan.error().message));
  REQUIRE(plan->stages[0].steps.size() == 2);
  const Step& motd = plan->stages[0].steps[0];
  CHECK(motd.action == Action::kCreate);
  CHECK(motd.desired.attrs.at("content") == Value("from a source file\n"));
  const Step& stale = plan->stages[0].steps[1];
  CHECK(stale.action == Action::kUpdate);
  REQUIRE(stale.changes().size() == 1);
  CHECK(stale.changes()[0].old_value == Value("0644"));
  CHECK(stale.changes()[0].new_value == Value("0600"));
  CHECK(plan->stages[2].steps.at(0).action == Action::kDelete);

  // Apply stage one for real, then the same spec plans stage one to nothing.
  for (const Step& step : plan->stages[0].steps) {
    const Resource& r = load.spec->resources[step.resource];
    Change c{step.action, Target{r.address, r.schema, step.desired.attrs, HostFor(*load.spec, r)}, step.prior, {}};
    REQUIRE(r.provider->Apply(c));
  }
  CHECK(ReadText(dir.path / "motd") == "from a source file\n");
  auto again = TestWorld::PlanOf(load);
  REQUIRE(again);
  CHECK(again->stages[0].steps.empty());
  CHECK(again->stages[1].steps.empty());
  CHECK(again->stages[2].steps.size() == 1);
}

// The SSH probe's output, read without a server: one line a path (A, E, U or F), then for the
// F's their stat details, stat's exit, all their content in one base64 line, and whether cat
// read it all.
TEST_CASE("the probe script's output parses, and damage is an error") {
  std::vector<std::string> paths = {"/a", "/b", "/c", "/d", "/e", "/f"};
  // "hi", then "" (empty), then "\0\xff" (binary, no newline at the end).
  std::string out = "A\nF\nE\nU\nF\nF\n2 640 root\nadm\n0 600 a user\na group\n2 4755 r\nr\nS 0\n" +
                    Base64Encode(std::string("hi\0\xff", 4)) + "\nC 0\n";
  auto r = file::ParseProbeOutput(out, paths);
  REQUIRE_MESSAGE(r, (r ? std::string() : r.error().message));
  CHECK_FALSE((*r)[0]->exists);
  CHECK((*r)[1]->exists);
  CHECK((*r)[1]->content == "hi");
  CHECK((*r)[1]->mode == "0640");
  CHECK((*r)[1]->owner == "root");
  CHECK((*r)[1]->group == "adm");
  CHECK((*r)[2].error().message == "/c exists and is not a regular file; reconcile will not replace it");
  CHECK((*r)[3].error().message == "/d cannot be read by the SSH user; set sudo = true on the host");
  CHECK((*r)[4]->exists);
  CHECK((*r)[4]->content.empty());
  CHECK((*r)[4]->owner == "a user");  // names with spaces survive: each ends a line
  CHECK((*r)[4]->group == "a group");
  CHECK((*r)[5]->content == std::string("\0\xff", 2));
  CHECK((*r)[5]->mode == "4755");

  // No file to read: nothing follows the letters.
  auto none = file::ParseProbeOutput("A\nE\n", {"/a", "/b"});
  REQUIRE(none);
  CHECK_FALSE((*none)[0]->exists);

  CHECK(file::ParseProbeOutput("A\n", {"/a", "/b"}).error().message == "the probe ended early, at /b");
  CHECK(file::ParseProbeOutput("F\n", {"/a"}).error().message == "the probe ended early, at /a");
  CHECK(file::ParseProbeOutput("F 644 r r aGk=\n", {"/a"}).error().message ==
        "the probe of /a returned 'F 644 r r aGk='");
  CHECK(file::ParseProbeOutput("F\n2 644 r\nr\nS 0\n!!!!\nC 0\n", {"/a"}).error().message ==
        "the probe of /a returned damaged content");
  CHECK_FALSE(file::ParseProbeOutput("F\nF\n2 644 r\nr\nS 0\naGk=\nC 0\n", {"/a", "/b"}));  // a file short
  CHECK_FALSE(file::ParseProbeOutput("F\nx 644 r\nr\nS 0\naGk=\nC 0\n", {"/a"}));
  CHECK_FALSE(file::ParseProbeOutput("F\n2 9 r\nr\nS 0\naGk=\nC 0\n", {"/a"}));
  // A line break in a name leaves a line over: an error, never a file's details shifted.
  CHECK_FALSE(file::ParseProbeOutput("F\n2 644 r\nbroken\nr\nS 0\naGk=\nC 0\n", {"/a"}));
}

// "R BASE64 EXIT": a file read on its own (empty by stat, or under /proc or /sys, where a size
// is no length): its content is its own, whatever size stat gave, and is not in the cat line.
TEST_CASE("files read on their own take their content from their line, not from stat's size") {
  std::vector<std::string> paths = {"/e", "/proc/x", "/f", "/sys/y", "/gone"};
  std::string out = "R  0\nR " + Base64Encode("Linux\n") + " 0\nF\nR " + Base64Encode("1500\n") +
                    " 0\nR  1\n0 644 r\nr\n0 444 root\nroot\n2 600 u\ng\n4096 444 root\nroot\n0 444 root\nroot\n"
                    "S 0\n" +
                    Base64Encode("hi") + "\nC 0\n";
  auto r = file::ParseProbeOutput(out, paths);
  REQUIRE_MESSAGE(r, (r ? std::string() : r.error().message));
  REQUIRE((*r)[0]);
  CHECK((*r)[0]->exists);
  CHECK((*r)[0]->content.empty());
  CHECK((*r)[0]->mode == "0644");
  CHECK((*r)[1]->content == "Linux\n");
  CHECK((*r)[1]->mode == "0444");
  CHECK((*r)[1]->owner == "root");
  CHECK((*r)[2]->content == "hi");
  CHECK((*r)[2]->owner == "u");
  CHECK((*r)[2]->group == "g");
  CHECK((*r)[3]->content == "1500\n");  // stat said 4096
  CHECK((*r)[4].error().message ==
        "/gone could not be read (base64 exit 1); check that the SSH user may read it, or set sudo = true on the host");

  // Only such files: the cat line is empty.
  auto alone = file::ParseProbeOutput("R " + Base64Encode("Linux\n") + " 0\n0 444 root\nroot\nS 0\n\nC 0\n", {"/p"});
  REQUIRE_MESSAGE(alone, (alone ? std::string() : alone.error().message));
  CHECK((*alone)[0]->content == "Linux\n");
  CHECK((*alone)[0]->owner == "root");
  // Their sizes are not counted against the cat line: content there is an error.
  CHECK(file::ParseProbeOutput("R  0\n2 644 r\nr\nS 0\naGk=\nC 0\n", {"/e"})
            .error()
            .message.find("(stat counted 0 bytes, 2 were read)") != std::string::npos);
  CHECK(file::ParseProbeOutput("R !!!! 0\n", {"/a"}).error().message == "the probe of /a returned damaged content");
  CHECK(file::ParseProbeOutput("R aGk=\n", {"/a"}).error().message == "the probe of /a returned 'R aGk='");
  CHECK(file::ParseProbeOutput("R aGk= x\n", {"/a"}).error().message == "the probe of /a returned 'R aGk= x'");
  CHECK(file::ParseProbeOutput("R  0\n", {"/a"}).error().message == "the probe ended early, at /a");
  // Stat failed (the file gone since the read): the batch fails as for the others.
  CHECK(
      file::ParseProbeOutput("R  0\nS 1\n\nC 0\n", {"/a"}).error().message.find("changed while they were being read") !=
      std::string::npos);
}

TEST_CASE("files that change between the probe's stat and its cat fail the batch, never a wrong content") {
  std::vector<std::string> paths = {"/a", "/b"};
  std::string details = "F\nF\n2 644 r\nr\n3 644 r\nr\n";
  // Grown, shrunk, gone before stat (stat failed), gone before cat (cat failed).
  for (const std::string& tail :
       {"S 0\n" + Base64Encode("hi-abcd") + "\nC 0\n", "S 0\n" + Base64Encode("hiab") + "\nC 0\n",
        std::string("S 1\n\nC 0\n"), "S 0\n" + Base64Encode("hi") + "\nC 1\n"}) {
    auto r = file::ParseProbeOutput(details + tail, paths);
    REQUIRE_FALSE(r);
    CHECK_MESSAGE(r.error().message.find("changed while they were being read") != std::string::npos, r.error().message);
    CHECK(r.error().message.find("run the command again") != std::string::npos);
  }
  auto grown = file::ParseProbeOutput(details + "S 0\n" + Base64Encode("hi-abcd") + "\nC 0\n", paths);
  CHECK(grown.error().message.find("(stat counted 5 bytes, 7 were read)") != std::string::npos);
  // Through ParseProbeResult: the host is named, and what cat said is kept.
  CommandResult said{0, details + "S 0\n" + Base64Encode("hi") + "\nC 1\n", "cat: /b: No such file or directory\n"};
  auto r = file::ParseProbeResult(said, paths, "web (deploy@198.51.100.20:22)");
  REQUIRE_FALSE(r);
  CHECK(r.error().message ==
        "reading files on web (deploy@198.51.100.20:22): the files changed while they were being read (a file "
        "written, replaced or removed meanwhile); run the command again — cat: /b: No such file or directory");
}

// The probe script itself, run by this machine's sh (the same script an SSH host runs).
TEST_CASE("the probe script reads any bytes, any names, and more files than one command line holds") {
  TempDir dir;
  Write(dir.path / "bin", std::string("\x00\xff\n\r\x01 end", 8));
  Write(dir.path / "empty", "");
  Write(dir.path / "-no newline\nat the end", "last line");
  Write(dir.path / "with 'quotes' and $HOME", "q\n");
  fs::create_directory(dir.path / "folder");
  fs::create_symlink("empty", dir.path / "link");
  std::vector<std::string> paths;
  for (const char* name : {"bin", "missing", "empty", "folder", "-no newline\nat the end", "link",
                           "with 'quotes' and $HOME", "no/such/folder/file", "folder/"})
    paths.push_back((dir.path / name).string());
  // Enough long names that xargs must split the list (its default is 128 KiB a command).
  fs::path deep = dir.path / std::string(200, 'd');
  fs::create_directory(deep);
  for (int i = 0; i < 1500; ++i) {
    std::string name = "file-" + std::to_string(i);
    Write(deep / name, "content " + std::to_string(i) + (i % 2 ? "\n" : ""));
    paths.push_back((deep / name).string());
  }
  LocalShell shell;
  auto r = file::ReadRemoteFiles(shell, paths);
  REQUIRE_MESSAGE(r, (r ? std::string() : r.error().message));
  REQUIRE(r->size() == paths.size());
  CHECK((*r)[0]->content == std::string("\x00\xff\n\r\x01 end", 8));
  CHECK_FALSE((*r)[1]->exists);
  CHECK((*r)[2]->exists);
  CHECK((*r)[2]->content.empty());
  CHECK((*r)[3].error().message.find("exists and is not a regular file") != std::string::npos);
  CHECK((*r)[4]->content == "last line");
  CHECK_FALSE((*r)[5]);
  CHECK((*r)[6]->content == "q\n");
  CHECK_FALSE((*r)[7]->exists);
  CHECK_FALSE((*r)[8]);
  struct stat st {};
  REQUIRE(::stat(paths[0].c_str(), &st) == 0);
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
  CHECK((*r)[0]->mode == mode);
  for (int i = 0; i < 1500; ++i) {
    const auto& info = (*r)[9 + i];
    REQUIRE(info);
    CHECK(info->content == "content " + std::to_string(i) + (i % 2 ? "\n" : ""));
  }
}

// /proc files say size 0 and /sys files 4096 whatever they hold: read by the size stat gave,
// they failed the batch as "changed" every time. Beside them, a real empty file stays empty.
TEST_CASE("the probe script reads /proc and /sys files beside empty and ordinary ones") {
  TempDir dir;
  Write(dir.path / "a", "first\n");
  Write(dir.path / "empty", "");
  Write(dir.path / "b", "second");
  const std::string proc = "/proc/sys/kernel/ostype";
  std::string expected = ReadText(proc);
  REQUIRE(!expected.empty());
  struct stat st {};
  REQUIRE(::stat(proc.c_str(), &st) == 0);
  REQUIRE(st.st_size == 0);  // what the case is about
  std::vector<std::string> paths = {(dir.path / "a").string(), proc, (dir.path / "empty").string(),
                                    (dir.path / "b").string()};
  // A /sys file where this machine has one (containers may not mount /sys).
  const std::string sys = "/sys/kernel/mm/transparent_hugepage/enabled";
  bool has_sys = ::access(sys.c_str(), R_OK) == 0;
  if (has_sys) paths.push_back(sys);
  LocalShell shell;
  auto r = file::ReadRemoteFiles(shell, paths);
  REQUIRE_MESSAGE(r, (r ? std::string() : r.error().message));
  REQUIRE(r->size() == paths.size());
  CHECK((*r)[0]->content == "first\n");
  REQUIRE((*r)[1]);
  CHECK((*r)[1]->exists);
  CHECK((*r)[1]->content == expected);
  CHECK((*r)[1]->mode == "0444");
  CHECK((*r)[2]->exists);
  CHECK((*r)[2]->content.empty());
  CHECK((*r)[3]->content == "second");
  if (has_sys) {
    REQUIRE((*r)[4]);
    CHECK((*r)[4]->content == ReadText(sys));
    CHECK_FALSE((*r)[4]->content.empty());
  }
}

TEST_CASE("a file shorter by what another grew between the probe's stat and its cat fails the batch") {
  // The total is the same, so only a second stat tells the bytes would be cut apart wrong. A
  // `cat` ahead on PATH moves one byte from a to b just before it reads them.
  TempDir dir;
  fs::path a = dir.path / "a", b = dir.path / "b", bin = dir.path / "bin";
  Write(a, "xy");
  Write(b, "pq");
  fs::create_directory(bin);
  Write(bin / "cat", "#!/bin/sh\ncase \" $* \" in *\" " + a.string() + " \"*) printf x >'" + a.string() +
                         "'; printf pqr >'" + b.string() + "' ;; esac\nexec /bin/cat \"$@\"\n");
  fs::permissions(bin / "cat", fs::perms::owner_all);
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "/usr/bin:/bin";
  std::string tmpdir = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "";
  setenv("PATH", (bin.string() + ":" + path).c_str(), 1);
  setenv("TMPDIR", dir.path.c_str(), 1);  // the script's own folder, under the test's
  LocalShell shell;
  auto r = file::ReadRemoteFiles(shell, {a.string(), b.string()});
  setenv("PATH", path.c_str(), 1);
  if (tmpdir.empty()) unsetenv("TMPDIR");
  else setenv("TMPDIR", tmpdir.c_str(), 1);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("the files changed while they were being read") != std::string::npos);
  CHECK(ReadText(b) == "pqr");  // the shim did run, between the two
  // Nothing of the script's is left behind.
  std::size_t left = 0;
  for (const auto& e : fs::directory_iterator(dir.path)) left += e.path().filename().string().rfind("tmp.", 0) == 0;
  CHECK(left == 0);
}

TEST_CASE("a write makes its copy anew: a link planted under its name is not followed, a killed run's copy goes") {
  TempDir dir;
  FileProvider provider{std::make_shared<HostConnections>()};
  HostConfig local = Local();
  TypeSchema schema = provider.Types()[0];
  std::string path = (dir.path / "site.conf").string();
  // In a folder others write to, a link where the copy will be made, to a file it must not
  // reach (it would have been emptied, then given the site's content and mode).
  Write(dir.path / "victim", "precious\n");
  fs::permissions(dir.path / "victim", fs::perms::owner_read | fs::perms::owner_write);
  fs::create_symlink(dir.path / "victim", dir.path / (".site.conf.reconcile-" + std::to_string(::getpid())));
  // What runs killed while writing left: one of a process that is gone, one of a live one
  // (this test's parent), one beside another file, and names that only look alike.
  pid_t gone = ::fork();
  if (gone == 0) ::_exit(0);
  REQUIRE(gone > 0);
  int status = 0;
  REQUIRE(::waitpid(gone, &status, 0) == gone);
  Write(dir.path / (".site.conf.reconcile-" + std::to_string(gone)), "secret=1\n");
  Write(dir.path / (".other.reconcile-" + std::to_string(gone)), "secret=2\n");
  Write(dir.path / (".site.conf.reconcile-" + std::to_string(::getppid())), "live\n");
  Write(dir.path / ".site.conf.reconcile-tmp", "not a pid\n");
  Write(dir.path / "site.conf.reconcile-1", "not hidden\n");
  // Alike in name, but someone else's: root passes over the sticky bit that guards it.
  Write(dir.path / (".notes.reconcile-" + std::to_string(gone)), "theirs\n");
  REQUIRE(::chown((dir.path / (".notes.reconcile-" + std::to_string(gone))).c_str(), 65534, 65534) == 0);

  Target t{"file.site", &schema, {{"path", path}, {"content", "server {}\n"}, {"mode", "0644"}}, &local};
  auto made = provider.Apply(Change{Action::kCreate, t, State{}, {}});
  REQUIRE_MESSAGE(made, (made.ok() ? std::string() : made.error().message));
  CHECK(ReadText(path) == "server {}\n");
  CHECK(fs::is_regular_file(fs::symlink_status(path)));
  CHECK(ReadText((dir.path / "victim").string()) == "precious\n");
  struct stat st;
  REQUIRE(::stat((dir.path / "victim").c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  CHECK_FALSE(fs::exists(fs::symlink_status(dir.path / (".site.conf.reconcile-" + std::to_string(::getpid())))));
  CHECK_FALSE(fs::exists(dir.path / (".site.conf.reconcile-" + std::to_string(gone))));
  CHECK_FALSE(fs::exists(dir.path / (".other.reconcile-" + std::to_string(gone))));
  CHECK(fs::exists(dir.path / (".site.conf.reconcile-" + std::to_string(::getppid()))));
  CHECK(fs::exists(dir.path / ".site.conf.reconcile-tmp"));
  CHECK(fs::exists(dir.path / "site.conf.reconcile-1"));
  CHECK(fs::exists(dir.path / (".notes.reconcile-" + std::to_string(gone))));
}
