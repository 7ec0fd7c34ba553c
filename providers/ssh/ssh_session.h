// An SSH connection to one [host.NAME] through libssh2: host key checked against
// known_hosts (unknown or changed keys refused, with the fingerprint and how to trust it),
// public key authentication (ed25519/ECDSA; libssh2 1.10 cannot sign RSA with SHA-2), one
// connection per host for the whole run (commands side by side on its channels),
// reconnected once if it drops — and a command cut off by the drop is run again only when it
// never reached the server or only reads.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "engine/provider.h"
#include "providers/ssh/remote_shell.h"

namespace reconcile {

class SshConnection;

class SshSession : public RemoteShell {
 public:
  explicit SshSession(HostConfig host);
  ~SshSession() override;

  std::string Describe() const override;
  Result<CommandResult> Run(const std::vector<std::string>& argv, const std::string& input = {}) override;
  Result<CommandResult> Read(const std::vector<std::string>& argv, const std::string& input = {}) override;
  Result<CommandResult> RunStreamed(const std::vector<std::string>& argv, const CommandStreams& streams) override;
  Status WriteFile(const FileWriteRequest& request) override;
  Result<std::shared_ptr<Tunnel>> OpenTunnel(const std::string& host, int port) override;

  // Connects now (otherwise the first call does); refusals come back from here.
  Status Connect();

 private:
  Result<std::shared_ptr<SshConnection>> Connection();
  void Dropped(const std::shared_ptr<SshConnection>& conn);
  // Re-opens a dropped connection and calls `op` again once — not when `*no_retry` is set by then.
  template <class T, class Op>
  Result<T> WithReconnect(Op op, const bool* no_retry = nullptr);
  // `rerun`: the command only reads, so one cut off after it started may run again.
  Result<CommandResult> Exec(const std::vector<std::string>& argv, const std::string& input, bool rerun);

  HostConfig host_;           // with what its ssh_config says filled in
  std::string config_error_;  // why that config could not be read
  std::mutex mu_;             // guards conn_ only: commands run side by side on its channels
  std::shared_ptr<SshConnection> conn_;
};

}  // namespace reconcile
