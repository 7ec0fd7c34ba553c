// The `command` type, the escape hatch: `check` (exit 0 = already in state), `apply` (make it
// so) and `revert` (undo it), each an argv list — run without a shell — or, with shell = true,
// one shell line. On host = "local" or any SSH host. `env` and `path` set the commands'
// environment after sudo, handed over on standard input so no value is in a command line.
//
// How it diffs: a passing check reads back the spec's own attributes, so a command whose
// check passes plans to nothing; a failing (or absent) check reads as absent, so apply runs.
// ensure = "absent" with a passing check runs `revert`; rollback of an applied command does
// the same. A command without `revert` cannot be undone, and says so.
#pragma once

#include "engine/provider.h"
#include "providers/ssh/host_provider.h"

namespace reconcile {

class CommandProvider : public HostProvider {
 public:
  using HostProvider::HostProvider;
  std::string name() const override { return "command"; }
  std::vector<TypeSchema> Types() const override;
  std::vector<ProbePart> ProbeOn(RemoteShell& shell, const HostConfig& host, std::vector<const Target*> targets,
                                 std::vector<Result<State>*> out) override;
  Result<State> Apply(const Change& change) override;
};

}  // namespace reconcile
