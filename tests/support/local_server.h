// Real servers a test starts itself on loopback (python3's http.server, openssl s_server,
// nginx): a free port, a child process with its output in a log, waited for until it
// accepts, stopped by its PID. A server that does not come up fails the test with its log.
#pragma once

#include "tests/support/temp_dir.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace reconcile::testing {

// A high port nothing listens on: the kernel's pick, given back at once.
inline int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
    throw std::runtime_error("cannot bind a port on 127.0.0.1");
  ::close(fd);
  return ntohs(a.sin_port);
}

inline bool Accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// Starts argv with its standard output and error in `log`; returns its PID.
inline pid_t Spawn(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("cannot fork to run " + argv[0]);
  if (pid == 0) {
    FILE* out = std::fopen(log.c_str(), "w");
    if (out) ::dup2(::fileno(out), 1), ::dup2(::fileno(out), 2);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::fprintf(stderr, "cannot run %s: %s\n", args[0], std::strerror(errno));
    ::_exit(127);
  }
  return pid;
}

// Runs argv to its end; its exit code (-1 when it did not exit).
inline int RunToEnd(const std::vector<std::string>& argv, const std::filesystem::path& log) {
  int status = 0;
  ::waitpid(Spawn(argv, log), &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A server as a child process: the constructor returns once `port` accepts, and throws with
// the server's output if it exits or takes 5 s.
struct Server {
  pid_t pid = -1;
  Server(const std::vector<std::string>& argv, int port, const std::filesystem::path& log) {
    pid = Spawn(argv, log);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!Accepts(port)) {
      int status = 0;
      bool exited = ::waitpid(pid, &status, WNOHANG) == pid;
      if (exited || std::chrono::steady_clock::now() > deadline) {
        if (exited) pid = -1;
        Stop();
        throw std::runtime_error(argv[0] + " did not start listening on 127.0.0.1:" + std::to_string(port) +
                                 " within 5 s; its output:\n" + ReadText(log));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  ~Server() { Stop(); }
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  void Stop() {
    if (pid <= 0) return;
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
    pid = -1;
  }
};

}  // namespace reconcile::testing
