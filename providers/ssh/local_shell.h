// RemoteShell for host = "local": the same interface, this machine's processes and files,
// so providers treat the local machine and SSH hosts alike.
#pragma once

#include "engine/provider.h"
#include "providers/ssh/remote_shell.h"

namespace reconcile {

class LocalShell : public RemoteShell {
 public:
  std::string Describe() const override { return "local"; }
  // argv is executed directly (execvp), never through a shell.
  Result<CommandResult> Run(const std::vector<std::string>& argv, const std::string& input = {}) override;
  Result<CommandResult> RunStreamed(const std::vector<std::string>& argv, const CommandStreams& streams) override;
  Status WriteFile(const FileWriteRequest& request) override;
};

}  // namespace reconcile
