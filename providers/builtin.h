// Every provider this build of reconcile ships, registered in one explicit call from main
// (and from tests that want the real catalogue).
#pragma once

#include "engine/registry.h"

namespace reconcile {

Status RegisterBuiltinProviders(Registry* registry);

}  // namespace reconcile
