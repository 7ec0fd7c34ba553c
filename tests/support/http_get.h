// A plain HTTP/1.0 GET over a loopback socket, for tests that check what a real server
// answers (status line and body), with the Host header the site expects.
#pragma once

#include <arpa/inet.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace reconcile {

struct HttpAnswer {
  int status = 0;  // 0: no connection
  std::string body;
};

inline HttpAnswer HttpGet(int port, const std::string& host, const std::string& path = "/") {
  HttpAnswer a;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return a;
  }
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: " + host + "\r\n\r\n";
  (void)!::write(fd, req.data(), req.size());
  std::string resp;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) resp.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  if (resp.rfind("HTTP/", 0) == 0) a.status = std::stoi(resp.substr(resp.find(' ') + 1, 3));
  std::size_t body = resp.find("\r\n\r\n");
  if (body != std::string::npos) a.body = resp.substr(body + 4);
  return a;
}

}  // namespace reconcile
