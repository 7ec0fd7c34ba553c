// Carries one command's standard output into another's standard input, on two hosts (or two
// channels of one), a bounded number of pieces in memory at a time: how host_copy streams a
// `tar -c` on the source into a `tar -x` on the target without a file on the operator's disk.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "providers/ssh/remote_shell.h"

namespace reconcile::copy {

struct PipeResult {
  CommandResult from;  // its `out` stays empty: it went to `to`
  CommandResult to;
};

// The target's input ends only when the source has exited 0: a source that fails (or a
// transport that drops) ends the target's command with an error instead, so a partial stream
// is never taken for a whole one. `moved` (may be empty) hears the bytes carried so far.
Result<PipeResult> Pipe(RemoteShell& from, const std::vector<std::string>& from_argv, RemoteShell& to,
                        const std::vector<std::string>& to_argv, const std::function<void(std::int64_t)>& moved);

}  // namespace reconcile::copy
