// A local port that leads, over a host's SSH connection, to a port the host can reach: how
// libpq reaches a database that listens only where the SSH server is (`host = "db"` on a
// postgres resource). Each connection made to the local port gets its own direct-tcpip
// channel on the one SSH connection the run already has to that host.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "engine/result.h"

namespace reconcile {

class SshConnection;

class Tunnel {
 public:
  static Result<std::shared_ptr<Tunnel>> Open(std::shared_ptr<SshConnection> conn, std::string host, int port);
  ~Tunnel();
  Tunnel(const Tunnel&) = delete;
  Tunnel& operator=(const Tunnel&) = delete;

  int local_port() const { return local_port_; }
  // Why the last connection through it failed on the far side ("" if none did): libpq only
  // sees the connection close, this says why.
  std::string last_error();

 private:
  Tunnel() = default;
  void Accept();

  std::shared_ptr<SshConnection> conn_;
  std::string host_;
  int port_ = 0;
  int listen_fd_ = -1;
  int local_port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> pumps_;
  std::vector<int> clients_;
  std::string last_error_;
};

}  // namespace reconcile
