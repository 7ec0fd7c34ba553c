// The `firewall_port` type: a port on a host open or closed, to everyone or to listed
// sources, through the nftables table reconcile owns there (nft_table.h). Probed with one
// `nft -j list table` per host; each change is one `nft -f` transaction, all or nothing.
#pragma once

#include <map>
#include <mutex>

#include "providers/ssh/host_provider.h"

namespace reconcile {

class FirewallProvider : public HostProvider {
 public:
  using HostProvider::HostProvider;
  std::string name() const override { return "firewall"; }
  std::vector<TypeSchema> Types() const override;
  std::vector<ProbePart> ProbeOn(RemoteShell& shell, const HostConfig& host, std::vector<const Target*> targets,
                                 std::vector<Result<State>*> out) override;
  Result<State> Apply(const Change& change) override;
  void Review(const TypeSchema& type, const State& prior, const State& desired, Diff* diff) override;

 private:
  // One writer per host's table at a time: removing the last port also drops the table.
  std::mutex& HostLock(const std::string& host);
  std::mutex mu_;
  std::map<std::string, std::mutex> host_locks_;
};

}  // namespace reconcile
