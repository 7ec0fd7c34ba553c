// check kind "tcp": whether a port accepts connections from here. "closed" holds when the
// connection is refused or gets no answer within the try's 3 s (a firewall that drops).
#pragma once

#include "engine/provider.h"

namespace reconcile {

Result<CheckResult> CheckTcp(const AttrMap& attrs);

}  // namespace reconcile
