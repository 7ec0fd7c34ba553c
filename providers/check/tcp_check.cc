#include "providers/check/tcp_check.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "providers/ssh/remote_shell.h"
#include "engine/os_calls.h"

namespace reconcile {

namespace {

constexpr int kTryMs = 3000;

// Whether a connection opens; `why` says what happened otherwise.
Result<bool> Connects(const std::string& address, int port, std::string* why) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (rc != 0) return Error{"cannot resolve " + address + ": " + gai_strerror(rc)};
  bool open = false;
  for (addrinfo* ai = res; ai && !open; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      open = true;
    } else if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int err = 0;
      socklen_t len = sizeof err;
      if (::poll(&p, 1, kTryMs) == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) {
        open = true;
      } else {
        *why = err ? ErrnoText(err) : "no answer within " + std::to_string(kTryMs / 1000) + " s";
      }
    } else {
      *why = ErrnoText(errno);
    }
    ::close(fd);
  }
  ::freeaddrinfo(res);
  return open;
}

}  // namespace

Result<CheckResult> CheckTcp(const AttrMap& attrs) {
  const std::string& address = std::get<std::string>(attrs.at("address"));
  int port = static_cast<int>(std::get<std::int64_t>(attrs.at("port")));
  std::string expect = StringAttr(attrs, "expect", "open");
  std::string where = address + ":" + std::to_string(port);
  std::string why;
  auto open = Connects(address, port, &why);
  if (!open) return open.error();
  std::string seen = *open ? where + " accepts connections" : where + " does not: " + why;
  return CheckResult{*open == (expect == "open"), seen};
}

Result<CheckResult> CheckTcpFrom(RemoteShell& shell, const AttrMap& attrs) {
  const std::string& address = std::get<std::string>(attrs.at("address"));
  const std::string port = std::to_string(std::get<std::int64_t>(attrs.at("port")));
  std::string expect = StringAttr(attrs, "expect", "open");
  std::string where = address + ":" + port + " from " + shell.Describe();
  const std::string seconds = std::to_string(kTryMs / 1000);
  auto r = shell.Read({"timeout", seconds, "bash", "-c", "exec 3<>\"/dev/tcp/$0/$1\"", address, port});
  if (!r) return r.error();
  if (r->exit_code == 127 || r->exit_code == 126)
    return Error{"a tcp check from " + shell.Describe() + " needs bash and timeout there: " + r->err};
  bool open = r->exit_code == 0;
  std::string why = r->exit_code == 124 ? "no answer within " + seconds + " s" : r->err;
  if (auto colon = why.rfind(": "); r->exit_code != 124 && colon != std::string::npos) why = why.substr(colon + 2);
  while (!why.empty() && (why.back() == '\n' || why.back() == '\r')) why.pop_back();
  std::string seen = open ? where + " accepts connections" : where + " does not: " + why;
  return CheckResult{open == (expect == "open"), seen};
}

}  // namespace reconcile
