// An SSH connection to one [host.NAME] through libssh2: host key checked against
// known_hosts (unknown or changed keys refused, with the fingerprint and how to trust it),
// public key authentication (ed25519/ECDSA; libssh2 1.10 cannot sign RSA with SHA-2), one
// connection per host for the whole run, reconnected once if it drops.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "engine/provider.h"
#include "providers/ssh/remote_shell.h"

namespace reconcile {

class SshSession : public RemoteShell {
 public:
  explicit SshSession(HostConfig host);
  ~SshSession() override;

  std::string Describe() const override;
  Result<CommandResult> Run(const std::vector<std::string>& argv, const std::string& input = {}) override;
  Status WriteFile(const FileWriteRequest& request) override;

  // Connects now (otherwise the first call does); refusals come back from here.
  Status Connect();

 private:
  struct Impl;
  Status ConnectLocked();
  void DisconnectLocked();
  Result<CommandResult> RunLocked(const std::string& command, const std::string& input);
  Status SftpWriteLocked(const std::string& tmp, const FileWriteRequest& request);

  HostConfig host_;
  std::mutex mu_;  // a libssh2 session is used by one thread at a time
  std::unique_ptr<Impl> impl_;
};

}  // namespace reconcile
