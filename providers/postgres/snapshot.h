// The `postgres_snapshot` type: a pg_dump of one database to a named file on a host, taken
// once, before the stage's changes to data (they name it in `after`); a file under the name
// is the snapshot, so another one takes another path. Its size and SHA-256
// are read back and journaled with the step. reconcile never deletes a snapshot: rolling
// back past it leaves the file for the operator to restore from (pg_restore).
#pragma once

#include "engine/plan/diff.h"
#include "engine/provider.h"
#include "providers/postgres/pg_session.h"
#include "providers/ssh/remote_shell.h"

namespace reconcile::pg {

TypeSchema SnapshotType();
Result<State> ProbeSnapshot(RemoteShell& shell, const Target& target);
Result<State> TakeSnapshot(RemoteShell& shell, const Settings& server, const Target& target);
void ReviewSnapshot(Diff* diff);

}  // namespace reconcile::pg
