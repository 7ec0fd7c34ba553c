// check kind "tls": whether address:port serves a certificate that chains to a trusted CA (the
// system's, plus `ca_file` for a private one), covers `name` (default: the address) and stays
// valid for `min_days_valid` more days. A port that refuses or a handshake that
// fails does not hold yet (a server coming up); only what cannot be tried at all is an Error.
#pragma once

#include "engine/provider.h"

namespace reconcile {

// `attrs`: the check's, its defaults filled in (CheckProvider::Check).
Result<CheckResult> CheckTls(const AttrMap& attrs);

}  // namespace reconcile
