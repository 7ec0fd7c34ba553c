// runit's side of the `service` type (manager = "runit"), as GitLab's omnibus and Void Linux
// run services: a service is a folder with a `run` script (runit_sv_dir/NAME, /etc/sv/NAME by
// default), enabled when linked into the folder runsvdir watches (runit_service_dir/NAME,
// /etc/service/NAME), and started or stopped through `sv`, which waits for it.
#pragma once

#include <chrono>
#include <string>

#include "engine/provider.h"
#include "providers/ssh/host_provider.h"

namespace reconcile {

// Where runit lives when the spec does not say: Debian's layout (the schema's docs show these).
namespace runit {
inline constexpr const char* kServiceDir = "/etc/service";  // runit_service_dir
inline constexpr const char* kSvDir = "/etc/sv";            // runit_sv_dir
inline constexpr const char* kSv = "sv";                    // runit_sv
}  // namespace runit

// What the probe reads of one service: whether its link is there, whether its folder is,
// and `sv status`'s first word: run, down, finish, or fail/warning when no runsv watches it.
struct RunitStatus {
  bool enabled = false;
  bool defined = false;
  std::string word;     // "" when not enabled (not asked)
  std::string message;  // the status line, for errors
  bool supervised() const { return word == "run" || word == "down" || word == "finish"; }
  bool running() const { return word == "run"; }
};
// The probe's output (see RunitPart) → status. Pure, for tests.
RunitStatus ParseRunitProbe(const std::string& out);

// One service's share of its host's probe (`where` names the host in errors).
ProbePart RunitPart(const Target& t, const std::string& where, Result<State>* slot);

// A service's stop_timeout (under any manager), at its default when not written.
std::chrono::milliseconds StopTimeout(const Target& t);

// Makes the service what t.desired says: linked or not (enabled), then up or down, waiting
// up to `stop_timeout` for it; returns what it reads back.
Result<State> ApplyRunit(RemoteShell& shell, const Target& t);

}  // namespace reconcile
