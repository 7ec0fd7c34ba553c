// check kind "http": one GET with libcurl. TLS is always verified; redirects are not
// followed (a 301 is an answer the spec can expect); each try times out after 10 s.
#pragma once

#include "engine/provider.h"

namespace reconcile {

Result<CheckResult> CheckHttp(const AttrMap& attrs);

}  // namespace reconcile
