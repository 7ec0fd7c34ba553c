// `postgres_role`: a role that exists (or not), may log in, has a connection limit and a
// password. The password is probed as the stored verifier (pg_authid, superuser only) and
// compared with the spec's plain password by recomputing it (password.h), so the journaled
// prior is the verifier itself and a rollback puts the old password back without knowing it.
#pragma once

#include "engine/plan/diff.h"
#include "engine/provider.h"
#include "providers/postgres/pg_session.h"

namespace reconcile::pg {

TypeSchema RoleType();
Result<State> ProbeRole(Session& db, const Target& target);
Result<State> ApplyRole(Session& db, const Change& change);
// A password change whose current password could not be read cannot be undone.
void ReviewRole(const State& prior, const State& desired, Diff* diff);

}  // namespace reconcile::pg
