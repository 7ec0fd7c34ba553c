// The `check` type: a condition that gates a stage (an HTTP answer, a port, a DNS name, a
// certificate, a manifest of keys, a command). Checks are probes with no action; the plan
// shows them as `?` steps.
#pragma once

#include <memory>

#include "engine/provider.h"
#include "providers/check/wait_check.h"

namespace reconcile {

class HostConnections;

class CheckProvider : public Provider {
 public:
  // `hosts`: the run's shared connections; none = its own (tests that run checks from here).
  explicit CheckProvider(std::shared_ptr<HostConnections> hosts = nullptr);
  std::string name() const override { return "check"; }
  std::vector<TypeSchema> Types() const override;
  void Probe(std::span<const Target* const> targets, std::vector<Result<State>>* out) override;
  Result<State> Apply(const Change& change) override;
  Result<CheckResult> Check(const Target& target) override;

 private:
  std::shared_ptr<HostConnections> hosts_;  // for checks run from a host
  WaitClocks waits_;                        // when each wait check of this run began
};

}  // namespace reconcile
