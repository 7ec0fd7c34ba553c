// The `host_copy` type: a file or a folder copied from one host to another (either may be
// "local"), owner, mode and mtime kept, streamed from a `tar -c` on the source into a `tar -x`
// on the target through the run's two connections — no file on the operator's disk. The
// target is unpacked beside its name, checked against the source's checksum (tree_digest.h)
// and only then renamed into place. In state when the target holds what the source holds.
#pragma once

#include <memory>

#include "engine/plan/diff.h"
#include "engine/provider.h"

namespace reconcile {

class HostConnections;

class HostCopyProvider : public Provider {
 public:
  explicit HostCopyProvider(std::shared_ptr<HostConnections> hosts) : hosts_(std::move(hosts)) {}
  std::string name() const override { return "host_copy"; }
  std::vector<TypeSchema> Types() const override;
  void Probe(std::span<const Target* const> targets, std::vector<Result<State>>* out) override;
  Result<State> Apply(const Change& change) override;
  void Review(const TypeSchema& type, const State& prior, const State& desired, Diff* diff) override;

 private:
  std::shared_ptr<HostConnections> hosts_;
};

}  // namespace reconcile
