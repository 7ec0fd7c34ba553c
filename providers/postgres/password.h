// Whether a role's stored password (pg_authid.rolpassword) is the one a spec asks for,
// decided without logging in: a SCRAM-SHA-256 verifier is recomputed from the plain password
// with its own salt and iteration count (RFC 5802), an md5 one from password and role name.
// A spec (or a rollback) may also give a verifier itself, compared as text.
#pragma once

#include <optional>
#include <string>

namespace reconcile::pg {

bool IsVerifier(const std::string& s);  // "SCRAM-SHA-256$…" or "md5" + 32 hex digits

// `stored` nullopt = the role has no password; `wanted` "" = it should have none.
bool PasswordMatches(const std::optional<std::string>& stored, const std::string& wanted, const std::string& role);

}  // namespace reconcile::pg
