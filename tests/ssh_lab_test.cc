// The SSH transport against the lab's real sshd: commands as argv, atomic SFTP writes, host
// keys checked (unknown and changed keys refused with the fingerprint), and a connection
// that drops is re-opened once — a command cut off by it run again only if it only reads.
#include <doctest/doctest.h>

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "providers/ssh/ssh_session.h"
#include "tests/support/lab_env.h"
#include "tests/support/temp_dir.h"

using namespace reconcile;
namespace fs = std::filesystem;

namespace {}  // namespace

TEST_CASE("commands run as argv: spaces, quotes and semicolons stay inside their argument") {
  auto env = LabEnv();
  SshSession ssh(LabHost(env));
  REQUIRE(ssh.Connect());
  auto r = ssh.Run({"printf", "%s|", "a b", "it's", "x; rm -rf /tmp/nothing", "$HOME"});
  REQUIRE(r);
  CHECK(r->exit_code == 0);
  CHECK(r->out == "a b|it's|x; rm -rf /tmp/nothing|$HOME|");
  auto fails = ssh.Run({"sh", "-c", "echo oops >&2; exit 3"});
  REQUIRE(fails);
  CHECK(fails->exit_code == 3);
  CHECK(fails->err == "oops\n");
  auto in = ssh.Run({"cat"}, "from stdin\n");
  REQUIRE(in);
  CHECK(in->out == "from stdin\n");
}

TEST_CASE("SFTP writes are atomic, with mode, and leave no temporary file") {
  auto env = LabEnv();
  TempDir dir;
  SshSession ssh(LabHost(env));
  fs::path target = dir.path / "site.conf";
  REQUIRE(ssh.WriteFile({target.string(), "server { }\n", "0640", std::nullopt, std::nullopt}));
  CHECK(ReadText(target) == "server { }\n");
  CHECK((fs::status(target).permissions() & fs::perms::all) ==
        (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
  Status second =
      ssh.WriteFile({target.string(), "server { listen 80; }\n", "0644", std::string("root"), std::nullopt});
  REQUIRE_MESSAGE(second, second.message());
  CHECK(ReadText(target) == "server { listen 80; }\n");
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
  auto missing = ssh.WriteFile({(dir.path / "no" / "such" / "f").string(), "x", "0644", std::nullopt, std::nullopt});
  REQUIRE_FALSE(missing);
  CHECK(missing.message().find("cannot write in " + (dir.path / "no" / "such").string() +
                               "/ over SFTP: the folder does not exist there; create it first") != std::string::npos);
}

TEST_CASE("an unknown host key is refused with its fingerprint and how to trust it") {
  auto env = LabEnv();
  TempDir dir;
  HostConfig h = LabHost(env);
  h.known_hosts = (dir.path / "known_hosts").string();
  std::ofstream(h.known_hosts) << "";
  SshSession ssh(h);
  Status s = ssh.Connect();
  REQUIRE_FALSE(s);
  CHECK(s.message().find("its host key is not in " + h.known_hosts + " (fingerprint " + env.at("SSH_HOST_FINGERPRINT") +
                         ")") != std::string::npos);
  CHECK(s.message().find("ssh-keyscan -p " + env.at("SSH_PORT") + " 127.0.0.1 >> " + h.known_hosts) !=
        std::string::npos);

  // Asked for, trust on first use records the key; the next connection matches it.
  h.trust_on_first_use = true;
  SshSession first(h);
  REQUIRE(first.Connect());
  CHECK(ReadText(h.known_hosts).find("[127.0.0.1]:" + env.at("SSH_PORT") + " ssh-ed25519 ") == 0);
  h.trust_on_first_use = false;
  SshSession again(h);
  CHECK(again.Connect());
}

TEST_CASE("a changed host key is refused") {
  auto env = LabEnv();
  TempDir dir;
  HostConfig h = LabHost(env);
  std::string other = (dir.path / "other").string();
  REQUIRE(std::system(("ssh-keygen -q -t ed25519 -N '' -f " + other).c_str()) == 0);
  h.known_hosts = (dir.path / "known_hosts").string();
  std::string pub = ReadText(other + ".pub");
  std::ofstream(h.known_hosts) << "[127.0.0.1]:" << env.at("SSH_PORT") << " " << pub.substr(0, pub.rfind(' ')) << "\n";
  SshSession ssh(h);
  Status s = ssh.Connect();
  REQUIRE_FALSE(s);
  CHECK(s.message().find("the host key CHANGED") != std::string::npos);
  CHECK(s.message().find(env.at("SSH_HOST_FINGERPRINT")) != std::string::npos);
}

TEST_CASE("a wrong key is refused, saying which key and what to check") {
  auto env = LabEnv();
  TempDir dir;
  std::string other = (dir.path / "stranger").string();
  REQUIRE(std::system(("ssh-keygen -q -t ed25519 -N '' -f " + other).c_str()) == 0);
  HostConfig h = LabHost(env);
  h.identity = other;
  SshSession ssh(h);
  Status s = ssh.Connect();
  REQUIRE_FALSE(s);
  CHECK(s.message().find("public key authentication as " + h.user + " with " + other + " failed") != std::string::npos);
}

TEST_CASE("a connection that drops is re-opened once") {
  auto env = LabEnv();
  SshSession ssh(LabHost(env));
  // The sshd process serving this session is the shell's parent: kill it, as a network drop
  // or a restarted server would (the listener stays, so a reconnect can succeed).
  auto server = ssh.Run({"sh", "-c", "echo $PPID"});
  REQUIRE(server);
  int listener = 0;
  {
    std::ifstream pid_file(env.at("LAB_DIR") + "/pids/sshd_" + env.at("SSH_PORT") + ".pid");
    pid_file >> listener;
  }
  REQUIRE(std::stoi(server->out) != listener);
  ::kill(std::stoi(server->out), SIGKILL);
  auto after = ssh.Run({"echo", "still here"});
  REQUIRE_MESSAGE(after, (after ? std::string() : after.error().message));
  CHECK(after->out == "still here\n");
}

TEST_CASE("a command cut off by a drop is not run again, it may have run; a read is run again") {
  auto env = LabEnv();
  TempDir dir;
  SshSession ssh(LabHost(env));
  REQUIRE(ssh.Connect());
  // The command counts itself, then kills the sshd process serving it (its parent): the
  // connection drops while its output is being read, after it did its work.
  const std::string count = (dir.path / "count").string();
  auto cut = ssh.Run({"sh", "-c", "echo ran >>\"$0\"; kill -9 $PPID; sleep 1", count});
  REQUIRE_FALSE(cut);
  CHECK_MESSAGE(cut.error().message.find("it may have run") != std::string::npos, cut.error().message);
  CHECK(ReadText(count) == "ran\n");
  auto next = ssh.Run({"echo", "reconnected"});
  REQUIRE_MESSAGE(next, (next ? std::string() : next.error().message));
  CHECK(next->out == "reconnected\n");

  // A probe cut off the same way is only a read: it runs again on a new connection.
  const std::string reads = (dir.path / "reads").string();
  auto read =
      ssh.Read({"sh", "-c", "echo read >>\"$0\"; [ $(wc -l <\"$0\") -ge 2 ] || kill -9 $PPID; echo done", reads});
  REQUIRE_MESSAGE(read, (read ? std::string() : read.error().message));
  CHECK(read->out == "done\n");
  CHECK(ReadText(reads) == "read\nread\n");
}

TEST_CASE("commands on one host run side by side, on channels of one connection") {
  auto env = LabEnv();
  TempDir dir;
  SshSession ssh(LabHost(env));
  REQUIRE(ssh.Connect());
  // Each command marks itself present, then waits for all the others: run one after another,
  // the first would give up after 20 s and say so.
  constexpr int kCommands = 6;
  std::string script =
      "touch \"$1/$2\"; i=0; while [ $(ls \"$1\" | wc -l) -lt " + std::to_string(kCommands) +
      " ]; do i=$((i+1)); [ $i -gt 400 ] && { echo alone; exit 1; }; sleep 0.05; done; echo \"$SSH_CONNECTION\"";
  std::vector<Result<CommandResult>> results(kCommands, Error{"not run"});
  std::vector<std::thread> threads;
  for (int k = 0; k < kCommands; ++k)
    threads.emplace_back([&, k] {
      results[k] = ssh.Run({"sh", "-c", script, "wait", dir.path.string(), std::to_string(k)});
    });
  for (std::thread& t : threads) t.join();
  std::set<std::string> connections;
  for (auto& r : results) {
    REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
    CHECK(r->exit_code == 0);
    connections.insert(r->out);
  }
  CHECK(connections.size() == 1);  // the client's address and port: one TCP connection
}

TEST_CASE("large input, output and error streams pass at once without stalling") {
  auto env = LabEnv();
  SshSession ssh(LabHost(env));
  std::string input;
  for (int i = 0; i < 100000; ++i) input += "line " + std::to_string(i) + "\n";
  // tee copies its input to stdout and (through the redirection) to stderr as it reads: a
  // client that read stdout to the end before stderr would leave both sides waiting.
  auto r = ssh.Run({"sh", "-c", "tee /dev/stderr"}, input);
  REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
  CHECK(r->exit_code == 0);
  CHECK(r->out.size() == input.size());
  CHECK(r->err == input);
  CHECK(r->out == input);
}
