// The base of every provider that acts on hosts: they share the run's connections (one per
// host, the local machine included) and are probed together, so a plan asks each host once
// for every file, site and service it names there.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <span>

#include "engine/provider.h"
#include "providers/ssh/remote_shell.h"

namespace reconcile {

// A provider's share of a host's probe: a sh fragment (its arguments quoted in) and how to
// read what it printed, exit code and standard error included.
struct ProbePart {
  std::string script;
  std::function<void(const Result<CommandResult>&)> read;
};

// Runs one part on its own (apply reads back what it wrote this way).
void RunProbePart(RemoteShell& shell, const ProbePart& part);

// Set after a script's `trap ... EXIT` that removes its temporary files: a shell ended by a
// signal (the SSH channel closing under a run killed with -9) runs no EXIT trap unless the
// signal is made an exit, and each kill left a file in the host's /tmp.
inline constexpr const char* kExitOnSignal =
    "trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 141' PIPE; "
    "trap 'exit 143' TERM";

// Runs a read-only script with `sh`, handed over on its standard input rather than in the
// command line: an SSH exec request must fit in one packet (about 32 KiB with libssh2), and a
// probe of thousands of paths does not.
Result<CommandResult> ReadScript(RemoteShell& shell, const std::string& script);

class HostConnections;

class HostProvider : public Provider {
 public:
  explicit HostProvider(std::shared_ptr<HostConnections> hosts) : hosts_(std::move(hosts)) {}

  void Probe(std::span<const Target* const> targets, std::vector<Result<State>>* out) final;
  ProbeGroup* probe_group() override;

  // The targets on one host: answers them directly through `out` (out[i] for targets[i]),
  // or returns the parts to run there, whose `read` fills `out`.
  virtual std::vector<ProbePart> ProbeOn(RemoteShell& shell, const HostConfig& host, std::vector<const Target*> targets,
                                         std::vector<Result<State>*> out) = 0;

 protected:
  std::shared_ptr<HostConnections> hosts_;
};

}  // namespace reconcile
