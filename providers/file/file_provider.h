// The `file` resource type: a file's content, mode, owner and group on a host: this
// machine's files on host = "local", over SSH (one batched read per host) on [host.NAME].
#pragma once

#include "engine/provider.h"
#include "providers/ssh/host_provider.h"

namespace reconcile {

// "" when `name` can go to chown as a user or group; else what is wrong with it. The
// AttrSchema::check of every owner and group attribute (file, directory).
std::string CheckAccountName(const std::string& name, const AttrMap& resource);

class FileProvider : public HostProvider {
 public:
  using HostProvider::HostProvider;
  std::string name() const override { return "file"; }
  std::vector<TypeSchema> Types() const override;
  std::vector<ProbePart> ProbeOn(RemoteShell& shell, const HostConfig& host, std::vector<const Target*> targets,
                                 std::vector<Result<State>*> out) override;
  Result<State> Apply(const Change& change) override;
};

}  // namespace reconcile
