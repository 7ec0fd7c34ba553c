// [notify]: where a run's milestones are posted as they happen — a chat channel's incoming
// webhook (Slack, Mattermost) or any receiver of JSON — so the people around a cutover see it
// without watching the operator's terminal. The loader reads it (loader_notify.cc);
// engine/notify sends.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "engine/diagnostics.h"
#include "engine/schema.h"

namespace reconcile {

struct NotifySpec {
  // A URL, or env:NAME / file:PATH holding one. A secret either way (a Slack webhook's path is
  // its token): never shown, logged or journaled; messages name it by scheme://host at most.
  std::string webhook;
  bool webhook_secret = false;  // written as env:/file:, read when a run starts
  SourceLoc webhook_loc;
  std::string format = "slack";     // "slack": {"text": …}; "json": the --json event objects
  std::vector<std::string> events;  // of NotifyEvents()
  std::chrono::milliseconds check_failing_after = std::chrono::minutes(2);
  SourceLoc loc;  // the [notify] header

  bool Wants(const std::string& event) const;
};

// Every event a spec may list, in the order a run reaches them.
const std::vector<std::string>& NotifyEvents();
// Without `events`: all but stage_started, which says little that stage_complete does not.
const std::vector<std::string>& DefaultNotifyEvents();
// The keys of [notify], for the loader's suggestions and docs/spec.md.
const std::vector<AttrSchema>& NotifyKeys();

}  // namespace reconcile
