// The AWS family on a [provider.aws.NAME]: its region, its credentials (given, or as every AWS
// tool finds them) and an optional endpoint for every service. Types: `elastic_ip`,
// `rds_snapshot`, `security_group_rule` (aws_types.h); `s3_bucket` and `s3_sync` (providers/s3)
// may name it too.
#pragma once

#include <memory>

#include "engine/provider.h"

namespace reconcile {

std::unique_ptr<Provider> NewAwsProvider();

}  // namespace reconcile
