// A stage's watch window (CloudFormation's monitoring time for its rollback triggers): once
// the stage's steps and checks pass, its checks and its watch_checks keep being asked for
// `watch` before it counts as complete. A check that stops holding and does not hold again
// within its own timeout fails the stage, which then stops or rolls back as on_failure says.
#pragma once

#include <chrono>
#include <vector>

#include "engine/exec/executor.h"
#include "engine/run/apply_stages.h"

namespace reconcile {

// How often a watched check is asked: every 10 s, or a tenth of a shorter window (500 ms at
// least).
std::chrono::milliseconds WatchEvery(std::chrono::milliseconds window);

// Watches stage `stage` for its `watch`: `checks` are its check steps as it ran them; its
// watch_checks are added. kOk when every check held throughout.
RunEnd WatchStage(const Spec& spec, std::size_t stage, const std::vector<Step>& checks, Executor& executor,
                  Progress& progress);

}  // namespace reconcile
