// Route 53 as a ZoneBackend: a hosted zone (by zone_id, or found by its name) read whole with
// ListResourceRecordSets, and each batch applied as one ChangeResourceRecordSets, which Route 53
// applies all or nothing. Every changed set goes in as a DELETE of what was probed (as Route 53
// lists it, which a DELETE must repeat exactly) and a CREATE of the new one, so a set changed
// since the plan makes the batch fail and nothing change; apply then waits until the change is
// INSYNC on Route 53's servers.
#pragma once

#include <memory>

#include "engine/provider.h"
#include "providers/dns/zone_backend.h"

namespace reconcile::dns {

// From a [provider.dns.NAME] of kind "route53" and the [provider.aws.NAME] its `aws` names.
Result<std::unique_ptr<ZoneBackend>> NewRoute53Backend(const ProviderConfig& dns, const ProviderConfig& aws);

}  // namespace reconcile::dns
