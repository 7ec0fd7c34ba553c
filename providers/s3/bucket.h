// `s3_bucket`: whether the bucket exists, and its versioning, default encryption, public
// access block and policy. Only what the spec sets is read or written. A server that does
// not implement a setting (s3rver: versioning, encryption, policy) is named as such in the
// plan, and the apply fails saying so; nothing pretends it was set.
#pragma once

#include "engine/plan/diff.h"
#include "engine/provider.h"
#include "providers/s3/s3_client.h"

namespace reconcile::s3 {

TypeSchema BucketType();
Result<State> ProbeBucket(Client& client, const Target& target);
Result<State> ApplyBucket(Client& client, const Change& change);
// Policies are compared as JSON, not as text.
void ReviewBucket(const State& prior, const State& desired, Diff* diff);

// What a probe shows for a setting the server does not implement.
std::string Unsupported(const Response& r);
bool IsUnsupported(const Value& v);

}  // namespace reconcile::s3
