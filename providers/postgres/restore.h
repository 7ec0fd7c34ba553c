// The `postgres_restore` type: a dump file on a host (pg_dump's custom format, as a
// postgres_snapshot writes it) restored into a database with pg_restore, run once on that
// host, then checked: the row counts of the tables named in `compare` must equal those of the
// source database (`compare_with`). In state when they do. pg_restore's `--clean` is off
// unless `clean = true`. Rolled back by dropping the database only when the restore created
// it; a restore into a database that existed cannot be undone (what it replaced is not kept).
#pragma once

#include <functional>
#include <memory>

#include "engine/plan/diff.h"
#include "engine/provider.h"
#include "providers/postgres/pg_session.h"
#include "providers/ssh/remote_shell.h"

namespace reconcile::pg {

// A session to `database` on the server of `server` (its provider and, when it has one, its
// host, which the connection goes through); the session keeps any tunnel it needs open.
using OpenDatabase = std::function<Result<std::shared_ptr<Session>>(const Target& server, const std::string& database)>;

TypeSchema RestoreType();
Result<State> ProbeRestore(const OpenDatabase& open, const Target& target);
// `shell`: the host's, where the dump is and pg_restore runs.
Result<State> ApplyRestore(const OpenDatabase& open, RemoteShell& shell, const Change& change);
void ReviewRestore(const State& prior, const State& desired, Diff* diff);

}  // namespace reconcile::pg
