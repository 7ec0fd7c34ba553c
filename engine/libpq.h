// libpq, opened when the first PostgreSQL connection needs it, by the journal kept in a
// database or by the postgres provider (engine/dynamic_library.h says why).
#pragma once

#include "engine/result.h"

namespace reconcile {

// Opens libpq once. An error says which package to install.
Status LoadLibpq();

}  // namespace reconcile
