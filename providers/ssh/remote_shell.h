// The seam between providers and the machines they act on: run a command (argv, never a
// shell line unless the caller builds one on purpose), read and write files. The real one
// speaks SSH (ssh_session.h); providers receive it through their constructor.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/result.h"
#include "engine/shell_words.h"  // ShellQuote, ShellCommand: how argv reaches a remote shell

namespace reconcile {

class Tunnel;

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

struct FileWriteRequest {
  std::string path;
  std::string content;
  std::string mode = "0644";  // four octal digits
  std::optional<std::string> owner;
  std::optional<std::string> group;
};

// A long transfer's two ends: a command's standard input fed, and its standard output taken,
// a piece at a time, so a copy between two hosts holds a few pieces in memory, never the whole.
// Both are called without any connection lock held, and may wait.
struct CommandStreams {
  // The next piece of input; "" at its end. An error ends the command.
  std::function<Result<std::string>()> input;
  // Takes one piece of output. An error ends the command.
  std::function<Status(std::string_view)> output;
};

class RemoteShell {
 public:
  virtual ~RemoteShell() = default;
  virtual std::string Describe() const = 0;  // "web (deploy@198.51.100.20:22)"
  // Runs argv (quoted for the remote shell, with sudo when the host says so); `input` is
  // written to its standard input.
  // A command that was cut off once it may have started (a connection dropped mid-way) is not
  // run again: the error says it may have run, so the caller probes before anything is redone.
  virtual Result<CommandResult> Run(const std::vector<std::string>& argv, const std::string& input = {}) = 0;
  // Run for a command that only reads (a probe, a check): safe to run twice, so one cut off
  // is run again on a new connection.
  virtual Result<CommandResult> Read(const std::vector<std::string>& argv, const std::string& input = {}) {
    return Run(argv, input);
  }
  // Run with input and output streamed (either may be unset: no input, output kept in `out`).
  // Never run again once started, like Run.
  virtual Result<CommandResult> RunStreamed(const std::vector<std::string>& argv, const CommandStreams& streams) {
    (void)argv, (void)streams;
    return Error{Describe() + " cannot stream a command's input and output"};
  }
  // Writes a file atomically: a temporary file in the same folder, then a rename.
  virtual Status WriteFile(const FileWriteRequest& request) = 0;
  // A local port leading to host:port as this machine sees it (tunnel.h); only SSH hosts
  // have one — the local machine reaches such ports directly.
  virtual Result<std::shared_ptr<Tunnel>> OpenTunnel(const std::string& host, int port) {
    (void)host, (void)port;
    return Error{Describe() + " is this machine: connect directly, no tunnel is needed"};
  }
};

}  // namespace reconcile
