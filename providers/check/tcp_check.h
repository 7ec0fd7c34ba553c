// check kind "tcp": whether a port accepts connections from here, or from a host. "closed" holds when the
// connection is refused or gets no answer within the try's 3 s (a firewall that drops).
#pragma once

#include "engine/provider.h"

namespace reconcile {

Result<CheckResult> CheckTcp(const AttrMap& attrs);

// The same, from a host: its bash opens the connection (bash and coreutils' timeout needed there).
class RemoteShell;
Result<CheckResult> CheckTcpFrom(RemoteShell& shell, const AttrMap& attrs);

}  // namespace reconcile
