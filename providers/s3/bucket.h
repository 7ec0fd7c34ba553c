// `s3_bucket`: whether the bucket exists, and its versioning, default encryption, public
// access block and policy. Only what the spec sets is read or written. A server that does
// not implement a setting (s3rver: versioning, encryption, policy) is named as such in the
// plan, and the apply fails saying so; nothing pretends it was set.
#pragma once

#include <map>
#include <string>

#include "engine/plan/diff.h"
#include "engine/provider.h"
#include "providers/s3/s3_client.h"

namespace reconcile::s3 {

TypeSchema BucketType();
Result<State> ProbeBucket(Client& client, const Target& target);
Result<State> ApplyBucket(Client& client, const Change& change);
// Policies are compared as JSON, not as text.
void ReviewBucket(const State& prior, const State& desired, Diff* diff);

// The settings a probe found the server does not implement, each with how it answered
// ("501 NotImplemented"): kept as the state's private data, not as a value of the setting.
std::string PackUnsupported(const std::map<std::string, std::string>& why);
std::map<std::string, std::string> UnsupportedOf(const State& s);

}  // namespace reconcile::s3
