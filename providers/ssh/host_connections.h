// One RemoteShell per host, created on first use and kept for the run (the local machine
// included), shared by every provider that acts on hosts — and the probe group that reads
// all of a plan's hosts at once: one command per host, hosts side by side.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "engine/provider.h"
#include "providers/ssh/remote_shell.h"

namespace reconcile {

class HostConnections : public ProbeGroup {
 public:
  // How a host's shell is made: SSH, or this machine's for "local". Tests wrap the real one
  // to count round trips.
  using Factory = std::function<std::unique_ptr<RemoteShell>(const HostConfig&)>;
  static std::unique_ptr<RemoteShell> Connect(const HostConfig& host);

  explicit HostConnections(Factory factory = Connect) : factory_(std::move(factory)) {}
  Result<RemoteShell*> For(const HostConfig& host);
  void Probe(std::vector<ProbeBatch>* batches) override;

 private:
  Factory factory_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<RemoteShell>> shells_;
};

// The joint probe script's output → one CommandResult per part (pure, for tests).
Result<std::vector<CommandResult>> SplitProbeOutput(const std::string& out, const std::string& marker,
                                                    std::size_t parts);

}  // namespace reconcile
