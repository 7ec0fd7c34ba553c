// The AWS family on a [provider.aws.NAME]: its region, its credentials (given, or as every AWS
// tool finds them) and an optional endpoint for every service. Types: `elastic_ip`, `rds_snapshot`,
// `security_group_rule`.
#pragma once

#include "engine/plan/diff.h"
#include "engine/provider.h"
#include "providers/aws/aws_api.h"

namespace reconcile {

class AwsProvider : public Provider {
 public:
  std::string name() const override { return "aws"; }
  std::vector<TypeSchema> Types() const override;
  std::vector<ProviderKindSchema> Kinds() const override;
  void Probe(std::span<const Target* const> targets, std::vector<Result<State>>* out) override;
  Result<State> Apply(const Change& change) override;
  void Review(const TypeSchema& type, const State& prior, const State& desired, Diff* diff) override;
};

namespace aws {
// A client of `service` for the target's [provider.aws.NAME], its credentials found.
Result<std::unique_ptr<QueryClient>> ClientFor(const Target& target, const std::string& service,
                                               const std::string& version);
}  // namespace aws

}  // namespace reconcile
