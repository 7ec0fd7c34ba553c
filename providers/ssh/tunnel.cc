#include "providers/ssh/tunnel.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "providers/ssh/ssh_connection.h"
#include "engine/os_calls.h"

namespace reconcile {

Result<std::shared_ptr<Tunnel>> Tunnel::Open(std::shared_ptr<SshConnection> conn, std::string host, int port) {
  std::shared_ptr<Tunnel> t(new Tunnel());
  t->conn_ = std::move(conn);
  t->host_ = std::move(host);
  t->port_ = port;
  t->listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (t->listen_fd_ < 0) return Error{std::string("cannot open a local socket for the tunnel: ") + ErrnoText(errno)};
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;  // the kernel picks a free one
  socklen_t len = sizeof addr;
  if (::bind(t->listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(t->listen_fd_, 8) != 0 ||
      ::getsockname(t->listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return Error{std::string("cannot listen on 127.0.0.1 for the tunnel: ") + ErrnoText(errno)};
  t->local_port_ = ntohs(addr.sin_port);
  t->acceptor_ = std::thread([raw = t.get()] { raw->Accept(); });
  return t;
}

void Tunnel::Accept() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    std::lock_guard<std::mutex> lock(mu_);
    clients_.push_back(client);
    pumps_.emplace_back([this, client] {
      Status s = conn_->Forward(client, host_, port_, stop_);
      if (!s) {  // before the client sees the close, so its caller can say why
        std::lock_guard<std::mutex> lock(mu_);
        last_error_ = s.message();
      }
      ::shutdown(client, SHUT_RDWR);
    });
  }
}

std::string Tunnel::last_error() {
  std::lock_guard<std::mutex> lock(mu_);
  return last_error_;
}

Tunnel::~Tunnel() {
  stop_ = true;
  if (acceptor_.joinable()) acceptor_.join();
  std::vector<std::thread> pumps;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int c : clients_) ::shutdown(c, SHUT_RDWR);
    pumps.swap(pumps_);
  }
  for (std::thread& p : pumps) p.join();
  for (int c : clients_) ::close(c);
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

}  // namespace reconcile
