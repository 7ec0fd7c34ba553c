// `rds_snapshot`: a manual snapshot of an RDS instance, taken once (apply waits until it is
// available) and never deleted by reconcile: a rollback past it keeps it, as it is the way
// back. One that already exists under the identifier is adopted.
#pragma once

#include "engine/plan/diff.h"
#include "engine/provider.h"
#include "providers/aws/aws_api.h"

namespace reconcile::aws {

TypeSchema RdsSnapshotType();
Result<State> ProbeRdsSnapshot(QueryClient& rds, const Target& target);
Result<State> ApplyRdsSnapshot(QueryClient& rds, const Change& change);
void ReviewRdsSnapshot(Diff* diff);

}  // namespace reconcile::aws
