// The `check` type: a condition that gates a stage (an HTTP answer, a port, a DNS name, a
// certificate, a manifest of keys, a command). Checks are probes with no action; the plan
// shows them as `?` steps.
#pragma once

#include "engine/provider.h"

namespace reconcile {

class CheckProvider : public Provider {
 public:
  std::string name() const override { return "check"; }
  std::vector<TypeSchema> Types() const override;
  void Probe(std::span<const Target* const> targets, std::vector<Result<State>>* out) override;
  Result<State> Apply(const Change& change) override;
  Result<CheckResult> Check(const Target& target) override;
};

}  // namespace reconcile
