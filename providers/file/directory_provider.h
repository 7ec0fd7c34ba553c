// The `directory` resource type: a folder's existence, mode, owner and group on a host.
// Made with its missing parents; removed only when empty — a rollback removes it only when
// the journal says it was absent before reconcile, and never a folder that holds files.
#pragma once

#include "engine/provider.h"
#include "providers/ssh/host_provider.h"

namespace reconcile {

class DirectoryProvider : public HostProvider {
 public:
  using HostProvider::HostProvider;
  std::string name() const override { return "directory"; }
  std::vector<TypeSchema> Types() const override;
  std::vector<ProbePart> ProbeOn(RemoteShell& shell, const HostConfig& host, std::vector<const Target*> targets,
                                 std::vector<Result<State>*> out) override;
  Result<State> Apply(const Change& change) override;
};

}  // namespace reconcile
