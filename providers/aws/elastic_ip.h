// `elastic_ip`: which instance an Elastic IP (named by its public address) is associated
// with, "" for none. Moving it is a re-association; a rollback moves it back. reconcile never
// allocates or releases one: a released address is gone for good.
#pragma once

#include "engine/provider.h"
#include "providers/aws/aws_api.h"

namespace reconcile::aws {

TypeSchema ElasticIpType();
Result<State> ProbeElasticIp(QueryClient& ec2, const Target& target);
Result<State> ApplyElasticIp(QueryClient& ec2, const Change& change);

}  // namespace reconcile::aws
