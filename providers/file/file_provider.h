// The `file` resource type: a file's content, mode, owner and group on a host. On
// host = "local" it reads and writes this machine's files; SSH hosts come with the SSH
// transport.
#pragma once

#include "engine/provider.h"

namespace reconcile {

class FileProvider : public Provider {
 public:
  std::string name() const override { return "file"; }
  std::vector<TypeSchema> Types() const override;
  void Probe(std::span<const Target* const> targets, std::vector<Result<State>>* out) override;
  Result<State> Apply(const Change& change) override;
};

}  // namespace reconcile
