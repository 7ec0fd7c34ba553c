// The `file` type on an SSH host (the lab's sshd): the probe of a whole batch is one round
// trip, content survives any bytes, and a plan against the host converges after apply.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "providers/file/remote_files.h"
#include "providers/ssh/ssh_session.h"
#include "tests/support/lab_env.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_world.h"

using namespace reconcile;
namespace fs = std::filesystem;

namespace {

// A real SSH session that counts its round trips.
struct CountingShell : RemoteShell {
  RemoteShell& real;
  int runs = 0;
  explicit CountingShell(RemoteShell& r) : real(r) {}
  std::string Describe() const override { return real.Describe(); }
  Result<CommandResult> Run(const std::vector<std::string>& argv, const std::string& input) override {
    ++runs;
    return real.Run(argv, input);
  }
  Status WriteFile(const FileWriteRequest& r) override { return real.WriteFile(r); }
};

}  // namespace

TEST_CASE("one round trip reads every file of a batch on a host, whatever bytes they hold") {
  auto env = LabEnv();
  TempDir dir;
  std::string binary("\x00\xff\n\r\x01 end", 8);
  std::ofstream(dir.path / "bin", std::ios::binary) << binary;
  std::ofstream(dir.path / "text") << "hello\n";
  fs::create_directory(dir.path / "folder");
  std::ofstream(dir.path / "empty");
  std::ofstream(dir.path / "-no newline\nat the end") << "last line";
  fs::create_symlink("text", dir.path / "link");
  SshSession ssh(LabHost(env));
  CountingShell counting(ssh);
  std::vector<std::string> paths;
  for (const char* name : {"bin", "text", "missing", "folder", "empty", "-no newline\nat the end", "link"})
    paths.push_back((dir.path / name).string());
  auto infos = file::ReadRemoteFiles(counting, paths);
  REQUIRE_MESSAGE(infos, (infos ? std::string() : infos.error().message));
  CHECK(counting.runs == 1);
  CHECK((*infos)[0]->content == binary);
  CHECK((*infos)[1]->content == "hello\n");
  CHECK_FALSE((*infos)[2]->exists);
  CHECK_FALSE((*infos)[3]);
  CHECK((*infos)[4]->exists);
  CHECK((*infos)[4]->content.empty());
  CHECK((*infos)[5]->content == "last line");
  CHECK_FALSE((*infos)[6]);
}

// /proc files say size 0 and /sys files 4096, whatever they hold: each is read on its own, in
// the same round trip, beside a real empty file and ordinary ones.
TEST_CASE("a batch with /proc and /sys files reads what they hold, in one round trip") {
  auto env = LabEnv();
  TempDir dir;
  std::ofstream(dir.path / "a") << "first\n";
  std::ofstream(dir.path / "empty");
  std::ofstream(dir.path / "b") << "second";
  const std::string proc = "/proc/sys/kernel/ostype";  // the lab's sshd runs on this machine
  std::vector<std::string> paths = {(dir.path / "a").string(), proc, (dir.path / "empty").string(),
                                    (dir.path / "b").string()};
  const std::string sys = "/sys/kernel/mm/transparent_hugepage/enabled";
  bool has_sys = ::access(sys.c_str(), R_OK) == 0;
  if (has_sys) paths.push_back(sys);
  SshSession ssh(LabHost(env));
  CountingShell counting(ssh);
  auto infos = file::ReadRemoteFiles(counting, paths);
  REQUIRE_MESSAGE(infos, (infos ? std::string() : infos.error().message));
  CHECK(counting.runs == 1);
  CHECK((*infos)[0]->content == "first\n");
  REQUIRE((*infos)[1]);
  CHECK((*infos)[1]->content == ReadText(proc));
  CHECK_FALSE((*infos)[1]->content.empty());
  CHECK((*infos)[2]->exists);
  CHECK((*infos)[2]->content.empty());
  CHECK((*infos)[3]->content == "second");
  if (has_sys) {
    REQUIRE((*infos)[4]);
    CHECK((*infos)[4]->content == ReadText(sys));
  }
}

TEST_CASE("plan, apply and plan again against files on an SSH host") {
  auto env = LabEnv();
  TempDir dir;
  std::ofstream(dir.path / "keep") << "old\n";
  std::string spec = std::string(kHeader) + LabHostToml(env);
  for (const char* name : {"a", "b", "keep"})
    spec += std::string("[file.") + name + "]\nhost = \"lab\"\npath = \"" + (dir.path / name).string() +
            "\"\ncontent = \"" + name + " over ssh\\n\"\nmode = \"0640\"\n";
  TestWorld w;
  LoadResult load = w.Load(spec);
  REQUIRE_MESSAGE(load.spec, TestWorld::Errors(load));
  auto plan = TestWorld::PlanOf(load);
  REQUIRE_MESSAGE(plan, (plan ? std::string() : plan.error().message));
  REQUIRE(plan->stages[0].steps.size() == 3);
  CHECK(plan->stages[0].steps[2].action == Action::kUpdate);
  for (const Step& step : plan->stages[0].steps) {
    const Resource& r = load.spec->resources[step.resource];
    auto done = r.provider->Apply(
        Change{step.action, Target{r.address, r.schema, step.desired.attrs, HostFor(*load.spec, r)}, step.prior, {}});
    REQUIRE_MESSAGE(done, (done ? std::string() : done.error().message));
    CHECK(done->attrs.at("mode") == Value("0640"));
  }
  CHECK(ReadText(dir.path / "keep") == "keep over ssh\n");
  auto again = TestWorld::PlanOf(load);
  REQUIRE(again);
  CHECK_FALSE(again->HasChanges());
}

// An exec request must fit in one SSH packet: a probe that named every path in it failed past
// about 800 files on a host. Thousands are read in one round trip on its standard input.
TEST_CASE("a plan of 3,000 files on one SSH host reads them all") {
  auto env = LabEnv();
  TempDir dir;
  fs::path folder = dir.path / "a-folder-with-a-name-long-enough-to-count";
  fs::create_directory(folder);
  std::string spec = std::string(kHeader) + LabHostToml(env);
  for (int i = 0; i < 3000; ++i) {
    std::string name = "file-" + std::to_string(i);
    if (i % 3 != 0) std::ofstream(folder / name) << "content " << i << "\n";
    spec += "[file.f" + std::to_string(i) + "]\nhost = \"lab\"\npath = \"" + (folder / name).string() +
            "\"\ncontent = \"content " + std::to_string(i) + "\\n\"\n";
  }
  TestWorld w;
  LoadResult load = w.Load(spec);
  REQUIRE_MESSAGE(load.spec, TestWorld::Errors(load));
  auto plan = TestWorld::PlanOf(load);
  REQUIRE_MESSAGE(plan, (plan ? std::string() : plan.error().message));
  PlanCounts counts = plan->Counts();
  CHECK(counts.create == 1000);  // every third is missing; the rest hold what the spec says
  CHECK(counts.update == 0);
}

// The loader and the provider refuse such names; this is the line behind them: chown reads
// what follows `--` as a name, so "--help" is an unknown user, not chown's help (which
// exits 0 and would leave the file written with no owner change said).
TEST_CASE("an owner that looks like an option reaches chown as a name, and fails") {
  auto env = LabEnv();
  TempDir dir;
  SshSession ssh(LabHost(env));
  std::string fresh = (dir.path / "fresh").string();
  Status written = ssh.WriteFile({fresh, "x\n", "0644", std::string("--help"), std::nullopt});
  CHECK_FALSE(written);
  CHECK_MESSAGE(written.message().find("invalid user") != std::string::npos, written.message());
  CHECK_FALSE(fs::exists(fresh));

  std::string kept = (dir.path / "kept").string();
  std::ofstream(kept) << "kept\n";
  file::FileWrite w;
  w.owner = "--help";
  Status changed = file::WriteRemoteFile(ssh, kept, w, true);
  CHECK_FALSE(changed);
  CHECK_MESSAGE(changed.message().find("invalid user") != std::string::npos, changed.message());
}

// In a folder others may write to, a link planted where the write makes its copy
// (.NAME.reconcile-tmp) is not followed: over SFTP, and as root through sudo.
TEST_CASE("a write over SSH makes its copy anew, whatever link is planted under its name") {
  auto env = LabEnv();
  for (bool sudo : {false, true}) {
    CAPTURE(sudo);
    TempDir dir;
    fs::path victim = dir.path / "victim";
    std::ofstream(victim) << "precious\n";
    fs::permissions(victim, fs::perms::owner_read | fs::perms::owner_write);
    fs::create_symlink(victim, dir.path / ".site.conf.reconcile-tmp");
    HostConfig h = LabHost(env);
    if (sudo) {
      REQUIRE_MESSAGE(env.count("SSH_SUDO_USER"), "the lab has no unprivileged user: run tests/install-deps.sh");
      h.user = env.at("SSH_SUDO_USER");
      h.sudo = true;
    }
    SshSession ssh(h);
    std::string path = (dir.path / "site.conf").string();
    Status written = ssh.WriteFile({path, "server {}\n", "0644", std::nullopt, std::nullopt});
    REQUIRE_MESSAGE(written, written.message());
    CHECK(ReadText(path) == "server {}\n");
    CHECK(fs::is_regular_file(fs::symlink_status(path)));
    CHECK(ReadText(victim) == "precious\n");
    CHECK((fs::status(victim).permissions() & fs::perms::all) == (fs::perms::owner_read | fs::perms::owner_write));
    std::vector<std::string> left;
    for (const auto& e : fs::directory_iterator(dir.path)) left.push_back(e.path().filename().string());
    std::sort(left.begin(), left.end());
    // The planted link: SFTP removes the name before it makes its copy; sudo's copy has a name
    // of its own (mktemp), so the link stays, pointing where it did, and nothing else is left.
    CHECK(left == (sudo ? std::vector<std::string>{".site.conf.reconcile-tmp", "site.conf", "victim"}
                        : std::vector<std::string>{"site.conf", "victim"}));
  }
}
