// The `service` type: a program running or stopped (and, with systemd or runit, enabled or
// not), on a host, under supervisor, systemd or runit (runit.h). Every service a batch names
// on a host is read in one round trip; stopping waits until the processes are really gone (commcare-cloud's
// `downtime start`), with a timeout.
#pragma once

#include "engine/provider.h"
#include "providers/ssh/host_provider.h"

namespace reconcile {

class ServiceProvider : public HostProvider {
 public:
  using HostProvider::HostProvider;
  std::string name() const override { return "service"; }
  std::vector<TypeSchema> Types() const override;
  std::vector<AttrSchema> HostSettings() const override;
  std::vector<ProbePart> ProbeOn(RemoteShell& shell, const HostConfig& host, std::vector<const Target*> targets,
                                 std::vector<Result<State>*> out) override;
  Result<State> Apply(const Change& change) override;
};

// `supervisorctl status` lines → program name → (state word, pid or 0). Pure, for tests.
struct ProgramStatus {
  std::string state;  // RUNNING, STOPPED, EXITED, FATAL, STARTING, BACKOFF, …
  long pid = 0;
  std::string error;  // "no such process"
};
std::map<std::string, ProgramStatus> ParseSupervisorStatus(const std::string& out);

}  // namespace reconcile
