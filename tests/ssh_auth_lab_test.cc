// How an operator's SSH set-up reaches the lab's sshd: a real ssh-agent holding a
// passphrase-protected key (added by ssh-add), that key read from its file with its
// passphrase, and host keys matched as OpenSSH matches them (port included, or declared in
// the spec for a rebuilt server). Each refusal says what to do.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "providers/ssh/ssh_session.h"
#include "tests/support/lab_env.h"
#include "tests/support/temp_dir.h"

using namespace reconcile;
namespace fs = std::filesystem;

namespace {

std::string Run(const std::string& command) {
  std::string out;
  FILE* p = ::popen(command.c_str(), "r");
  if (!p) return out;
  char buf[512];
  while (std::size_t n = std::fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ::pclose(p);
  return out;
}

// A passphrase-protected ed25519 key, allowed in by the lab's sshd (its authorized_keys is
// read at each login).
std::string EncryptedKey(const TempDir& dir, const std::map<std::string, std::string>& env, const char* passphrase) {
  std::string key = (dir.path / "deploy_ed25519").string();
  REQUIRE(std::system(("ssh-keygen -q -t ed25519 -N '" + std::string(passphrase) + "' -C deploy -f " + key).c_str()) ==
          0);
  std::ifstream pub(key + ".pub");
  std::string line;
  std::getline(pub, line);
  std::ofstream(fs::path(env.at("SSH_IDENTITY")).parent_path() / "authorized_keys", std::ios::app) << line << "\n";
  return key;
}

// A real ssh-agent on a socket in the test's folder, stopped by its PID; SSH_AUTH_SOCK points
// at it while it lives.
struct Agent {
  pid_t pid = -1;
  std::string sock;
  explicit Agent(const TempDir& dir) {
    sock = (dir.path / "agent.sock").string();
    pid = ::fork();
    if (pid == 0) {
      int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::execlp("ssh-agent", "ssh-agent", "-D", "-a", sock.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 100 && !fs::exists(sock); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    REQUIRE_MESSAGE(fs::exists(sock), "ssh-agent did not start");
    ::setenv("SSH_AUTH_SOCK", sock.c_str(), 1);
  }
  // ssh-add with the passphrase given as ssh-add takes one without a terminal.
  void Add(const TempDir& dir, const std::string& key, const char* passphrase) {
    fs::path askpass = dir.path / "askpass";
    std::ofstream(askpass) << "#!/bin/sh\necho '" << passphrase << "'\n";
    fs::permissions(askpass, fs::perms::owner_all);
    std::string cmd = "SSH_AUTH_SOCK=" + sock + " SSH_ASKPASS=" + askpass.string() +
                      " SSH_ASKPASS_REQUIRE=force DISPLAY=none ssh-add " + key + " </dev/null 2>&1";
    std::string out = Run(cmd);
    REQUIRE_MESSAGE(Run("SSH_AUTH_SOCK=" + sock + " ssh-add -l").find("deploy") != std::string::npos, out);
  }
  ~Agent() {
    ::unsetenv("SSH_AUTH_SOCK");
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

}  // namespace

TEST_CASE("ssh-agent: with no identity named, its keys log in; an empty agent is said so") {
  auto env = LabEnv();
  TempDir dir;
  Agent agent(dir);
  HostConfig h = LabHost(env);
  h.identity.clear();
  {
    SshSession ssh(h);
    Status s = ssh.Connect();
    REQUIRE_FALSE(s);
    CHECK(s.message().find("ssh-agent holds no keys (SSH_AUTH_SOCK=" + agent.sock +
                           "): add yours with ssh-add, or name one") != std::string::npos);
  }
  std::string key = EncryptedKey(dir, env, "correct horse");
  agent.Add(dir, key, "correct horse");
  SshSession ssh(h);
  REQUIRE_MESSAGE(ssh.Connect(), "through the agent");
  auto r = ssh.Run({"echo", "through the agent"});
  REQUIRE(r);
  CHECK(r->out == "through the agent\n");
}

TEST_CASE("ssh-agent: keys none of which the server takes are refused, counted") {
  auto env = LabEnv();
  TempDir dir;
  Agent agent(dir);
  std::string stranger = (dir.path / "stranger").string();
  REQUIRE(std::system(("ssh-keygen -q -t ed25519 -N '' -C deploy -f " + stranger).c_str()) == 0);
  agent.Add(dir, stranger, "");
  HostConfig h = LabHost(env);
  h.identity.clear();
  SshSession ssh(h);
  Status s = ssh.Connect();
  REQUIRE_FALSE(s);
  CHECK(s.message().find("failed with each of ssh-agent's 1 key(s) (ssh-add -l lists them)") != std::string::npos);
}

TEST_CASE("a passphrase-protected key is read with identity_passphrase, and said so without it") {
  auto env = LabEnv();
  TempDir dir;
  ::unsetenv("SSH_AUTH_SOCK");
  std::string key = EncryptedKey(dir, env, "tr0ub4dor");
  HostConfig h = LabHost(env);
  h.identity = key;
  {
    SshSession ssh(h);
    Status s = ssh.Connect();
    REQUIRE_FALSE(s);
    INFO(s.message());
    CHECK(s.message().find("the key " + key +
                           " is passphrase-protected: give identity_passphrase = \"env:NAME\" on "
                           "[host.lab], or leave identity out and let ssh-agent hold it") != std::string::npos);
  }
  ::setenv("RECONCILE_TEST_PASSPHRASE", "wrong", 1);
  h.identity_passphrase = "env:RECONCILE_TEST_PASSPHRASE";
  {
    SshSession ssh(h);
    Status s = ssh.Connect();
    REQUIRE_FALSE(s);
    INFO(s.message());
    CHECK(s.message().find("Check identity_passphrase") != std::string::npos);
    CHECK(s.message().find("wrong") == std::string::npos);
  }
  fs::path file = dir.path / "passphrase";
  std::ofstream(file) << "tr0ub4dor\n";
  h.identity_passphrase = "file:" + file.string();
  SshSession ssh(h);
  CHECK(ssh.Connect());
  ::unsetenv("RECONCILE_TEST_PASSPHRASE");
}

TEST_CASE("known_hosts is read as OpenSSH reads it: a key for the address on port 22 is not this port's") {
  auto env = LabEnv();
  TempDir dir;
  HostConfig h = LabHost(env);
  // The right key, under the plain address (port 22) only.
  std::string known =
      Run("sed -n 's/^\\[127.0.0.1\\]:" + env.at("SSH_PORT") + " /127.0.0.1 /p' " + env.at("SSH_KNOWN_HOSTS"));
  REQUIRE(known.rfind("127.0.0.1 ", 0) == 0);
  h.known_hosts = (dir.path / "known_hosts").string();
  std::ofstream(h.known_hosts) << known;
  SshSession ssh(h);
  Status s = ssh.Connect();
  REQUIRE_FALSE(s);
  CHECK(s.message().find("its host key is not in " + h.known_hosts) != std::string::npos);
}

TEST_CASE("host_key_fingerprint accepts a rebuilt server's new key, and only that one") {
  auto env = LabEnv();
  TempDir dir;
  std::string other = (dir.path / "old_host_key").string();
  REQUIRE(std::system(("ssh-keygen -q -t ed25519 -N '' -f " + other).c_str()) == 0);
  std::ifstream pub(other + ".pub");
  std::string type, blob;
  pub >> type >> blob;
  HostConfig h = LabHost(env);
  h.known_hosts = (dir.path / "known_hosts").string();
  std::ofstream(h.known_hosts) << "[127.0.0.1]:" << env.at("SSH_PORT") << " " << type << " " << blob << "\n";
  {
    SshSession ssh(h);
    Status s = ssh.Connect();
    REQUIRE_FALSE(s);
    CHECK(s.message().find("or declare it: host_key_fingerprint = \"" + env.at("SSH_HOST_FINGERPRINT") +
                           "\" on [host.lab]") != std::string::npos);
  }
  h.host_key_fingerprint = "SHA256:" + std::string(43, 'A');
  {
    SshSession ssh(h);
    Status s = ssh.Connect();
    REQUIRE_FALSE(s);
    CHECK(s.message().find("host_key_fingerprint on [host.lab] says SHA256:AAAA") != std::string::npos);
  }
  h.host_key_fingerprint = env.at("SSH_HOST_FINGERPRINT");
  SshSession ssh(h);
  CHECK(ssh.Connect());
}

TEST_CASE("a declared host_key_fingerprint is never overruled by trust_on_first_use") {
  auto env = LabEnv();
  TempDir dir;
  HostConfig h = LabHost(env);
  h.known_hosts = (dir.path / "known_hosts").string();
  std::ofstream(h.known_hosts) << "";
  h.trust_on_first_use = true;
  h.host_key_fingerprint = "SHA256:" + std::string(43, 'B');
  SshSession ssh(h);
  Status s = ssh.Connect();
  REQUIRE_FALSE(s);
  CHECK(s.message().find("is not the one host_key_fingerprint on [host.lab] declares") != std::string::npos);
  std::ifstream known(h.known_hosts);
  std::string line;
  CHECK_FALSE(std::getline(known, line));  // nothing recorded
}

TEST_CASE("ssh-agent first, then ~/.ssh/id_ed25519, as ssh does") {
  auto env = LabEnv();
  TempDir dir;
  Agent agent(dir);  // holds no keys
  fs::create_directories(dir.path / "home" / ".ssh");
  fs::copy_file(env.at("SSH_IDENTITY"), dir.path / "home" / ".ssh" / "id_ed25519");
  std::string home = std::getenv("HOME") ? std::getenv("HOME") : "";
  ::setenv("HOME", (dir.path / "home").c_str(), 1);
  HostConfig h = LabHost(env);
  h.identity.clear();
  SshSession ssh(h);
  Status s = ssh.Connect();
  ::setenv("HOME", home.c_str(), 1);
  CHECK_MESSAGE(s, s.message());
}
