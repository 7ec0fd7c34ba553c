// `s3_sync`: the target prefix holds what the source (a bucket prefix, or a local directory)
// holds. The probe lists both sides in key order and merges them (sync_lists.h); apply copies
// only what is missing or differs — server-side between buckets of one endpoint, one CopyObject
// each up to S3's 5 GiB and in parts above; uploads in parts from multipart_threshold_mib — and
// deletes extras when delete_extra is set. A rollback deletes what the sync created and puts
// back, from versions, what it overwrote or deleted; without versions that part is
// irreversible and the plan says so.
#pragma once

#include "engine/plan/diff.h"
#include "engine/provider.h"

namespace reconcile::s3 {

TypeSchema SyncType();
Result<State> ProbeSync(const Target& target);
Result<State> ApplySync(const Change& change);
void ReviewSync(const State& prior, const State& desired, Diff* diff);

}  // namespace reconcile::s3
