#include "providers/ssh/ssh_session.h"
#include "providers/ssh/tunnel.h"

#include <cstdlib>
#include <filesystem>

#include "providers/ssh/host_from_config.h"
#include "providers/ssh/ssh_connection.h"

namespace reconcile {

SshSession::SshSession(HostConfig host) : host_(std::move(host)) {
  // As `ssh ADDRESS` would reach it, where the spec is silent; a bad config is said when used.
  auto configured = WithSshConfig(host_);
  if (configured) host_ = std::move(*configured);
  else config_error_ = configured.error().message;
}

SshSession::~SshSession() = default;

std::string SshSession::Describe() const { return DescribeHost(host_); }

Result<std::shared_ptr<SshConnection>> SshSession::Connection() {
  std::lock_guard<std::mutex> g(mu_);
  if (!config_error_.empty()) return Error{"host " + Describe() + ": " + config_error_};
  if (!conn_) {
    auto c = SshConnection::Open(host_, Describe());
    if (!c) return c.error();
    conn_ = std::move(*c);
  }
  return conn_;
}

void SshSession::Dropped(const std::shared_ptr<SshConnection>& conn) {
  std::lock_guard<std::mutex> g(mu_);
  if (conn_ == conn) conn_.reset();  // the first to notice; the others' channels failed with it
}

Status SshSession::Connect() {
  auto c = Connection();
  return c ? Status::Ok() : Status(Error{c.error().message});
}

template <class T, class Op>
Result<T> SshSession::WithReconnect(Op op, const bool* no_retry) {
  // One reconnect: a connection that dropped is re-opened once, then reported.
  for (int attempt = 0;; ++attempt) {
    auto conn = Connection();
    if (!conn) return conn.error();
    Result<T> r = op(**conn);
    if (r) return r;
    Dropped(*conn);
    if (no_retry && *no_retry) return r.error();
    if (attempt == 1) return Error{"host " + Describe() + ": " + r.error().message + " (after one reconnect)"};
  }
}

Result<CommandResult> SshSession::Run(const std::vector<std::string>& argv, const std::string& input) {
  return Exec(argv, input, false);
}

Result<CommandResult> SshSession::Read(const std::vector<std::string>& argv, const std::string& input) {
  return Exec(argv, input, true);
}

Result<CommandResult> SshSession::Exec(const std::vector<std::string>& argv, const std::string& input, bool rerun) {
  std::vector<std::string> full = argv;
  if (host_.sudo) full.insert(full.begin(), {"sudo", "-n", "--"});
  std::string command = ShellCommand(full);
  // Once the server may have started it, a command that changes things is not run a second
  // time: what it did is unknown, and doing it twice can be wrong. A new run probes first.
  bool started = false;
  auto r = WithReconnect<CommandResult>([&](SshConnection& c) { return c.Exec(command, input, &started); },
                                        rerun ? nullptr : &started);
  if (!r && started && !rerun)
    return Error{"host " + Describe() + ": the connection failed while a command ran (" + r.error().message +
                 "); it may have run, in part or in full, so it was not run again; run reconcile again, which " +
                 "probes what is done before it does anything"};
  return r;
}

Result<CommandResult> SshSession::RunStreamed(const std::vector<std::string>& argv, const CommandStreams& streams) {
  std::vector<std::string> full = argv;
  if (host_.sudo) full.insert(full.begin(), {"sudo", "-n", "--"});
  std::string command = ShellCommand(full);
  // Never again once started: the streams' pieces are gone by then.
  bool started = false;
  auto r = WithReconnect<CommandResult>([&](SshConnection& c) { return c.ExecStreamed(command, streams, &started); },
                                        &started);
  if (!r && started) return Error{"host " + Describe() + ": " + r.error().message};
  return r;
}

Status SshSession::WriteFile(const FileWriteRequest& req) {
  std::filesystem::path p(req.path);
  std::string tmp = (p.parent_path() / ("." + p.filename().string() + ".reconcile-tmp")).string();
  if (!host_.sudo) {
    long mode = std::strtol(req.mode.c_str(), nullptr, 8);
    auto written = WithReconnect<bool>([&](SshConnection& c) -> Result<bool> {
      Status s = c.SftpWrite(tmp, req.content, mode);
      if (!s) return Error{s.message()};
      return true;
    });
    if (!written) return Error{written.error().message};
  }
  // SFTP (v3) cannot rename over an existing file, and runs as the login user: the rename,
  // ownership — and with sudo the write itself — are one command in a (root) shell.
  std::string script = "set -e; t=\"$1\"; f=\"$2\"; ";
  std::string input;
  if (host_.sudo) {
    // As root, into a file mktemp made (O_EXCL, a name no one can plant a link at), removed if
    // anything fails before it takes the file's place. A signal's trap only exits: the EXIT
    // trap removes the copy (a trap that removed it and went on would write it again).
    script +=
        "umask 077; t=$(mktemp -- \"$t.XXXXXX\"); trap 'rm -f -- \"$t\"' EXIT; trap 'exit 1' HUP INT TERM PIPE; cat > "
        "\"$t\"; "
        "chmod \"$3\" \"$t\"; ";
    input = req.content;
  }
  if (req.owner || req.group) script += "chown -- \"$4\" \"$t\"; ";
  script += "mv -f \"$t\" \"$f\"";
  std::string owner = req.owner.value_or("") + (req.group ? ":" + *req.group : "");
  auto r = Run({"sh", "-c", script, "reconcile-write", tmp, req.path, req.mode, owner}, input);
  if (!r) return Error{r.error().message};
  if (r->exit_code != 0) {
    // Best effort: the write's failure is the news. With sudo the copy was mktemp's, which the
    // script removed; the fixed name is not ours to remove as root.
    if (!host_.sudo) (void)Run({"rm", "-f", tmp});
    return Error{"host " + Describe() + ": cannot write " + req.path + ": " + r->err};
  }
  return Status::Ok();
}

Result<std::shared_ptr<Tunnel>> SshSession::OpenTunnel(const std::string& host, int port) {
  auto conn = Connection();
  if (!conn) return conn.error();
  return Tunnel::Open(*conn, host, port);
}

}  // namespace reconcile
