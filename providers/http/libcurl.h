// libcurl, opened when the first HTTP request needs it (engine/dynamic_library.h says why).
#pragma once

#include "engine/result.h"

namespace reconcile::http {

// Opens libcurl once and runs its global init. An error says which package to install.
Status LoadCurl();

}  // namespace reconcile::http
