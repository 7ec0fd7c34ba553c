// check kind "dns": whether every authoritative server of the zone answers the name with
// exactly the expected values — the servers listed (`servers`), or the zone's NS set as its
// primary (`server`) tells it. Each is asked directly, without recursion, so no cache stands
// between the check and the truth; the detail names every server that does not agree yet.
#pragma once

#include "engine/provider.h"

namespace reconcile {

// `attrs`: the check's, its defaults filled in (CheckProvider::Check).
Result<CheckResult> CheckDns(const AttrMap& attrs);

}  // namespace reconcile
