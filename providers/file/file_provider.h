// The `file` resource type: a file's content, mode, owner and group on a host: this
// machine's files on host = "local", over SSH (one batched read per host) on [host.NAME].
#pragma once

#include <memory>

#include "engine/provider.h"
#include "providers/ssh/ssh_session.h"

namespace reconcile {

class FileProvider : public Provider {
 public:
  explicit FileProvider(std::shared_ptr<HostConnections> hosts) : hosts_(std::move(hosts)) {}
  std::string name() const override { return "file"; }
  std::vector<TypeSchema> Types() const override;
  void Probe(std::span<const Target* const> targets, std::vector<Result<State>>* out) override;
  Result<State> Apply(const Change& change) override;

 private:
  std::shared_ptr<HostConnections> hosts_;
};

}  // namespace reconcile
