// The S3 family: `s3_bucket` (the bucket and its settings) and `s3_sync` (a target prefix
// holding what a bucket prefix or a local directory holds), on a [provider.s3.NAME]
// endpoint, or on an AWS account's S3 when they name a [provider.aws.NAME] (one account for
// every AWS type). Requests are signed by libcurl's SigV4 (s3_client.h).
#pragma once

#include "engine/provider.h"
#include "providers/s3/s3_client.h"

namespace reconcile {

class S3Provider : public Provider {
 public:
  std::string name() const override { return "s3"; }
  std::vector<TypeSchema> Types() const override;
  std::vector<ProviderKindSchema> Kinds() const override;
  void Probe(std::span<const Target* const> targets, std::vector<Result<State>>* out) override;
  Result<State> Apply(const Change& change) override;
  void Review(const TypeSchema& type, const State& prior, const State& desired, Diff* diff) override;
};

namespace s3 {
// The keys of a [provider.s3.NAME] (S3Provider::Kinds()), with their defaults.
std::vector<AttrSchema> EndpointKeys();
// The endpoint a target's [provider.s3.NAME] names, secrets resolved; for a [provider.aws.NAME],
// its region's S3 (or its `endpoint`) with the credentials the AWS types find.
Result<Endpoint> EndpointFor(const Target& target);
// A whole-number key of the target's [provider.s3.NAME] (part_size_mib, …): as written when
// above 0, else its default (always, for a [provider.aws.NAME]).
std::int64_t PositiveKey(const Target& target, const std::string& key);
int TransfersFor(const Target& target);  // requests in flight at once, at most 256
}  // namespace s3

}  // namespace reconcile
