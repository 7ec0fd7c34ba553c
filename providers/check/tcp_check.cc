#include "providers/check/tcp_check.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

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
        *why = err ? std::strerror(err) : "no answer within " + std::to_string(kTryMs / 1000) + " s";
      }
    } else {
      *why = std::strerror(errno);
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
  std::string expect = "open";
  if (auto it = attrs.find("expect"); it != attrs.end()) expect = std::get<std::string>(it->second);
  std::string where = address + ":" + std::to_string(port);
  std::string why;
  auto open = Connects(address, port, &why);
  if (!open) return open.error();
  std::string seen = *open ? where + " accepts connections" : where + " does not: " + why;
  return CheckResult{*open == (expect == "open"), seen};
}

}  // namespace reconcile
