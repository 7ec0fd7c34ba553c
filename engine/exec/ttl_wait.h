// Waiting out caches between stages. A DNS answer may be cached for the TTL it carried: after
// a record changes, resolvers may hand out the old one until that old TTL has passed. So a
// later stage (the one that assumes the world sees the new record) waits until every change
// of a type with a cached TTL (TypeSchema::cached_ttl_attr) made in an earlier stage is older
// than its prior TTL — timed from the journal, so it holds across runs — unless the resource
// says wait_old_ttl = false. The wait is shown, with a heartbeat, and Ctrl-C ends it.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "engine/exec/progress.h"
#include "engine/journal/history.h"
#include "engine/journal/journal.h"
#include "engine/spec/spec.h"

namespace reconcile {

struct TtlWait {
  std::string address;
  std::string stage;  // where it changed
  std::int64_t ttl = 0;
  std::chrono::system_clock::time_point until;
};

// What must pass before `stage` may start, latest first; empty when nothing is pending. Of
// each resource, the latest change made in an earlier stage counts (History::changes_seen).
std::vector<TtlWait> PendingTtlWaits(const Spec& spec, const History& history, std::size_t stage,
                                     std::chrono::system_clock::time_point now);

// Sleeps until the last of them has passed; an Error when interrupted.
Status WaitOutTtls(const std::vector<TtlWait>& waits, const std::string& stage, Progress& progress);

}  // namespace reconcile
