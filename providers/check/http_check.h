// check kind "http": one GET with libcurl. TLS is always verified; redirects are not
// followed (a 301 is an answer the spec can expect); each try times out after 10 s.
// `resolve` ("name:port:address", curl's --resolve) reaches a chosen address under the
// production name — the new server checked before DNS moves, its certificate verified for
// that name; `headers` ("Name: value") are sent with it, a value `env:NAME` read from the
// environment when the check runs, so plans, journals and output show only its name.
#pragma once

#include "engine/provider.h"

namespace reconcile {

// `attrs`: the check's, its defaults filled in (CheckProvider::Check).
Result<CheckResult> CheckHttp(const AttrMap& attrs);

// The loader's checks (file:line:col), run again by CheckHttp: "" when the value can be
// handed to curl as it is, else what is wrong with it.
std::string CheckResolve(const std::string& value, const AttrMap& resource);
// The url's: an http check needs libcurl, opened at first use (engine/dynamic_library.h); a
// machine without it is told while the spec is read, before a stage changes anything and its
// gate could only fail.
std::string CheckUrl(const std::string& value, const AttrMap& resource);
std::string CheckHeader(const std::string& value, const AttrMap& resource);

}  // namespace reconcile
