// Every provider this build of reconcile ships, registered in one explicit call from main
// (and from tests that want the real catalogue).
#pragma once

#include <memory>

#include "engine/registry.h"

namespace reconcile {

class HostConnections;

// `hosts`: the run's connections (made here when null); tests pass their own.
Status RegisterBuiltinProviders(Registry* registry, std::shared_ptr<HostConnections> hosts = nullptr);

}  // namespace reconcile
