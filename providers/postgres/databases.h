// `postgres_database`: a database that exists (or not), its owner and encoding, and whether
// PUBLIC may connect to it (the seeds' "make the database not public").
#pragma once

#include "engine/provider.h"
#include "providers/postgres/pg_session.h"

namespace reconcile::pg {

TypeSchema DatabaseType();
Result<State> ProbeDatabase(Session& db, const Target& target);
Result<State> ApplyDatabase(Session& db, const Change& change);

}  // namespace reconcile::pg
