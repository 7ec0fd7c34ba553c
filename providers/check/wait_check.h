// check kind "wait": holds once `duration` has passed since it was first asked in this run —
// a runbook's "wait 6 minutes after maintenance mode". Nothing is probed; the clock is the
// check's only state, kept by the provider for its run (a new run waits again in full).
// While it waits, its detail counts down ("5m50s left of 6m").
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "engine/provider.h"

namespace reconcile {

class WaitClocks {
 public:
  // `address` names the check; its clock starts at the first call.
  CheckResult Check(const std::string& address, std::chrono::milliseconds duration);

 private:
  std::mutex mu_;
  std::map<std::string, std::chrono::steady_clock::time_point> started_;
};

// A wait's duration, refused when it is not one or longer than a pause in a cutover can be.
std::optional<std::chrono::milliseconds> WaitDuration(const std::string& text);

// The loader's check of `duration`: a duration of at most 24h, shorter than the timeout.
std::string CheckWaitDuration(const std::string& value, const AttrMap& resource);

// Defaults that follow the duration: the timeout is the duration and a minute; the interval
// is a second, so the wait ends when it is due, not up to 5 s later.
std::string WaitTimeout(const AttrMap& resource);
std::string WaitInterval(const AttrMap& resource);

}  // namespace reconcile
