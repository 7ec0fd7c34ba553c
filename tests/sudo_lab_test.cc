// sudo = true on an SSH host: the lab's unprivileged reconcile-deploy logs in and reaches
// root through sudo, for probes, writes (content, mode, owner) and a plan that converges;
// the same host without sudo is refused where root is needed, saying what to set.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "providers/ssh/ssh_session.h"
#include "tests/support/lab_env.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_world.h"

using namespace reconcile;
namespace fs = std::filesystem;

namespace {

std::string SudoUser(const std::map<std::string, std::string>& env) {
  auto it = env.find("SSH_SUDO_USER");
  if (it == env.end())
    throw std::runtime_error(
        "the lab has no unprivileged user: run tests/install-deps.sh as root (it makes reconcile-deploy)");
  return it->second;
}

std::string HostToml(const std::map<std::string, std::string>& env, bool sudo) {
  std::string toml = LabHostToml(env);
  toml.replace(toml.find("user = \"" + env.at("SSH_USER") + "\""), 8 + env.at("SSH_USER").size() + 1,
               "user = \"" + SudoUser(env) + "\"");
  return toml + (sudo ? "sudo = true\n" : "");
}

std::string FileSpec(const std::map<std::string, std::string>& env, bool sudo, const fs::path& path) {
  return "version = 1\nname = \"sudo\"\n" + HostToml(env, sudo) + "[file.secret]\nhost = \"lab\"\npath = \"" +
         path.string() + "\"\ncontent = \"root only\\n\"\nmode = \"0600\"\nowner = \"root\"\ngroup = \"root\"\n";
}

}  // namespace

TEST_CASE("with sudo, an unprivileged login reads and writes where only root may") {
  auto env = LabEnv();
  TempDir dir;  // mode 0700, owned by root: reconcile-deploy cannot even look inside
  ::chmod(dir.path.c_str(), 0700);
  fs::path target = dir.path / "secret.conf";

  HostConfig h = LabHost(env);
  h.user = SudoUser(env);
  h.sudo = true;
  SshSession ssh(h);
  auto who = ssh.Run({"id", "-un"});
  REQUIRE_MESSAGE(who, (who ? "" : who.error().message));
  CHECK(who->out == "root\n");

  TestWorld w;
  CHECK(w.PlanAndApply(FileSpec(env, true, target)) == "");
  CHECK(ReadText(target) == "root only\n");
  struct stat st {};
  REQUIRE(::stat(target.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(st.st_uid == 0);
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);  // no temporary left

  Plan again;
  CHECK(TestWorld().PlanAndApply(FileSpec(env, true, target), &again) == "");
  CHECK_FALSE(again.HasChanges());
}

TEST_CASE("without sudo, the same login cannot read there, and the error says what to set") {
  auto env = LabEnv();
  TempDir dir;
  ::chmod(dir.path.c_str(), 0700);
  { std::ofstream(dir.path / "secret.conf") << "root only\n"; }
  TestWorld w;
  std::string error = w.PlanAndApply(FileSpec(env, false, dir.path / "secret.conf"));
  CHECK(error.find("file.secret: " + (dir.path / "secret.conf").string() +
                   " cannot be read by the SSH user; set sudo = true on the host") != std::string::npos);
}

TEST_CASE("a command on a sudo host gets its env and path after sudo has reset them") {
  auto env = LabEnv();
  TempDir dir;
  fs::create_directory(dir.path / "bin");
  fs::path out = dir.path / "out";
  fs::path tool = dir.path / "bin" / "reconcile-env-tool";
  std::ofstream(tool) << "#!/bin/sh\nprintf '%s|%s' \"$TOKEN\" \"$(id -un)\" > " << out.string() << "\n";
  fs::permissions(tool, fs::perms::owner_all);
  setenv("RECONCILE_SUDO_TOKEN", "sudo 'secret' value", 1);
  std::string spec = "version = 1\nname = \"sudo-env\"\n" + HostToml(env, true) +
                     "[command.tool]\nhost = \"lab\"\napply = [\"reconcile-env-tool\"]\n"
                     "env = { TOKEN = \"env:RECONCILE_SUDO_TOKEN\" }\n";
  {
    // sudo's secure_path does not have the tool's folder.
    TestWorld w;
    std::string error = w.PlanAndApply(spec);
    CHECK(error.find("`apply` exited 127") != std::string::npos);
    CHECK_FALSE(fs::exists(out));
  }
  TestWorld w;
  CHECK(w.PlanAndApply(spec + "path = \"" + (dir.path / "bin").string() + ":/usr/bin:/bin\"\n") == "");
  CHECK(ReadText(out) == "sudo 'secret' value|root");
  unsetenv("RECONCILE_SUDO_TOKEN");
}
