// One SSH connection (libssh2 session over one TCP socket) shared by many threads: each
// command gets its own channel, and channels make progress side by side. libssh2 lets one
// thread at a time into a session, so every call is made under a lock in non-blocking mode;
// a call that would block releases the lock and waits for the socket — one thread polls it,
// the others wait to be told that something moved.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "engine/provider.h"
#include "providers/ssh/remote_shell.h"

typedef struct _LIBSSH2_SESSION LIBSSH2_SESSION;
typedef struct _LIBSSH2_SFTP LIBSSH2_SFTP;
typedef struct _LIBSSH2_CHANNEL LIBSSH2_CHANNEL;

namespace reconcile {

class SshConnection {
 public:
  // Connects, checks the host key against known_hosts and authenticates; errors say what to do.
  static Result<std::unique_ptr<SshConnection>> Open(const HostConfig& host, const std::string& describe);
  ~SshConnection();

  // `*started` is set once the command is sent: from then on it may run even if this fails.
  Result<CommandResult> Exec(const std::string& command, const std::string& input, bool* started);
  // Exec with input and output streamed (remote_shell.h); the streams are called unlocked.
  Result<CommandResult> ExecStreamed(const std::string& command, const CommandStreams& streams, bool* started);
  // Carries bytes between `local` (a connected socket, made non-blocking here) and
  // host:port as the SSH server sees it, over a direct-tcpip channel, until either side
  // closes or `stop` is set. `local` stays the caller's to close.
  // `hop`: for a host behind this one (jump), which lives as long as that host's connection:
  // it holds no session slot (sshd limits sessions, not forwarded channels) and may stay
  // silent as long as that connection does.
  Status Forward(int local, const std::string& host, int port, const std::atomic<bool>& stop, bool hop = false);
  // Writes `content` to `path` over SFTP with `mode`, synced; one SFTP write at a time.
  Status SftpWrite(const std::string& path, const std::string& content, long mode);

  static constexpr int kMaxChannels = 8;  // sshd's MaxSessions is 10 by default

  // The connection to a jump host, opened once and shared by every host behind it.
  static Result<std::shared_ptr<SshConnection>> JumpConnection(const HostConfig& jump);

 private:
  SshConnection() = default;
  using Lock = std::unique_lock<std::mutex>;
  // Waits (without the lock) until the socket or another thread may have moved things on;
  // false once `deadline_ms` of silence is over.
  // `also` (>= 0): a local socket whose readiness (`also_events`) ends the wait too.
  bool Wait(Lock& lk, long long deadline_ms, int also = -1, short also_events = 0);
  void Moved();  // after a call that made progress: others may find their data queued
  template <class Op>
  auto Retry(Lock& lk, long long deadline_ms, Op op) -> decltype(op());
  template <class Op>
  LIBSSH2_CHANNEL* OpenChannel(Lock& lk, Op open);
  // One of the kMaxChannels channels, waited for and held while it lives (under the lock).
  class ChannelSlot {
   public:
    ChannelSlot(SshConnection* c, Lock& lk);
    ~ChannelSlot();
    ChannelSlot(const ChannelSlot&) = delete;
    ChannelSlot& operator=(const ChannelSlot&) = delete;

   private:
    SshConnection* c_;
  };

  // Behind a jump host: the connection to it (shared by every host behind it) and the thread
  // carrying this connection's bytes over one of its channels, from the other end of fd_.
  std::shared_ptr<SshConnection> via_;
  std::atomic<bool> broken_{false};  // its socket failed: a jump connection is opened anew
  std::thread pump_;
  std::atomic<bool> pump_stop_{false};
  int pump_fd_ = -1;
  std::mutex pump_mu_;
  std::string pump_error_;  // why the jump host could not carry it on
  std::string HopError();   // stops the pump and says why it ended ("" when it did not fail)

  int fd_ = -1;
  int wake_ = -1;  // eventfd: wakes the thread polling the socket
  LIBSSH2_SESSION* session_ = nullptr;
  LIBSSH2_SFTP* sftp_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  bool polling_ = false;
  unsigned long long generation_ = 0;
  int channels_ = 0;
  bool opening_ = false;  // a channel open is under way (OpenChannel)
  std::mutex sftp_mu_;
};

}  // namespace reconcile
