// Tunnels over the lab's sshd: a local port that leads to the lab's PostgreSQL through the
// host's one SSH connection, used while commands run on other channels of that connection —
// the mix a plan makes when a snapshot command and a tunnelled database step run side by
// side. (libssh2 keeps a channel being opened in the session: two opens at once once handed
// a command the tunnel's channel.)
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>
#include <vector>

#include "providers/ssh/ssh_session.h"
#include "providers/ssh/tunnel.h"
#include "tests/support/lab_env.h"

using namespace reconcile;

namespace {

// PostgreSQL's SSLRequest through the tunnel: the server answers one byte, 'N' or 'S'.
char AskPostgres(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  char answer = 0;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
    const unsigned char ssl_request[8] = {0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f};
    timeval tv{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::write(fd, ssl_request, sizeof ssl_request) == 8 && ::read(fd, &answer, 1) != 1) answer = 0;
  }
  ::close(fd);
  return answer;
}

}  // namespace

TEST_CASE("a tunnel and commands share one SSH connection, side by side, without mixing channels") {
  auto env = LabEnv();
  SshSession ssh(LabHost(env));
  REQUIRE(ssh.Connect());
  auto tunnel = ssh.OpenTunnel(env.at("PG_HOST"), std::stoi(env.at("PG_PORT")));
  REQUIRE_MESSAGE(tunnel, tunnel.error().message);
  CHECK(AskPostgres((*tunnel)->local_port()) == 'N');

  std::atomic<int> commands_ok{0}, tunnels_ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        auto r = ssh.Run({"echo", "command-" + std::to_string(t) + "-" + std::to_string(i)});
        if (r && r->exit_code == 0 && r->out == "command-" + std::to_string(t) + "-" + std::to_string(i) + "\n")
          ++commands_ok;
      }
    });
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i)
        if (AskPostgres((*tunnel)->local_port()) == 'N') ++tunnels_ok;
    });
  }
  for (std::thread& th : threads) th.join();
  CHECK(commands_ok == 30);
  CHECK(tunnels_ok == 30);
  CHECK((*tunnel)->last_error() == "");
}

TEST_CASE("a tunnel to a port nothing listens on says why, and the connection keeps working") {
  auto env = LabEnv();
  SshSession ssh(LabHost(env));
  auto tunnel = ssh.OpenTunnel("127.0.0.1", 1);
  REQUIRE(tunnel);
  CHECK(AskPostgres((*tunnel)->local_port()) == 0);
  CHECK((*tunnel)->last_error().find("would not connect on to 127.0.0.1:1") != std::string::npos);
  auto r = ssh.Run({"echo", "still here"});
  REQUIRE(r);
  CHECK(r->out == "still here\n");
}
