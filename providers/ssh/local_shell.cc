#include "providers/ssh/local_shell.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "providers/file/local_files.h"
#include "engine/os_calls.h"

namespace reconcile {

namespace {

// The forked child of Run: leads a process group of its own, in which the command runs, and
// stops that whole group when reconcile dies (even by SIGKILL, through PR_SET_PDEATHSIG):
// TERM, then KILL within a second, so a command cut off with its reconcile is gone, children
// and all, a second at most after it. Otherwise it waits for the command and exits as it did.
// Only async-signal-safe calls: reconcile has other threads.
[[noreturn]] void GuardThenExec(pid_t reconcile, char* const* args, const std::string& cannot_run) {
  ::setpgid(0, 0);
  sigset_t watched, before;
  sigemptyset(&watched);
  sigaddset(&watched, SIGCHLD);
  sigaddset(&watched, SIGTERM);
  ::sigprocmask(SIG_BLOCK, &watched, &before);
  // Sent when the thread that forked us ends, which Run outlives only by ending the process.
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != reconcile) ::_exit(137);  // it died before the line above: run nothing
  pid_t command = ::fork();
  if (command == 0) {
    ::sigprocmask(SIG_SETMASK, &before, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    ::execvp(args[0], args);
    const char* why = std::strerror(errno);
    (void)!::write(2, cannot_run.data(), cannot_run.size());
    (void)!::write(2, why, std::strlen(why));
    (void)!::write(2, "\n", 1);
    ::_exit(127);
  }
  // The command alone holds the pipes now: reconcile reads to their end, not to ours.
  ::close(0);
  ::close(1);
  ::close(2);
  if (command < 0) ::_exit(127);
  for (;;) {
    int sig = 0;
    if (::sigwait(&watched, &sig) != 0) continue;
    if (sig == SIGTERM) {
      // As systemd stops a service: TERM first, so a shell's traps remove its temporary files
      // (a KILL runs none: each reconcile killed mid-probe left one in /tmp), then KILL for
      // whatever is left after at most a second: the command, what it started, this guard.
      ::kill(0, SIGTERM);  // pends for this guard too, which blocks it and exits below
      sigset_t chld;
      sigemptyset(&chld);
      sigaddset(&chld, SIGCHLD);
      for (int tick = 0; tick < 20 && ::waitpid(command, nullptr, WNOHANG) != command; ++tick) {
        timespec wait{0, 50'000'000};
        ::sigtimedwait(&chld, nullptr, &wait);
      }
      ::kill(0, SIGKILL);
      ::_exit(137);
    }
    int status = 0;
    pid_t done = ::waitpid(command, &status, WNOHANG);
    if (done == command) ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
}

// Starts argv under its guard (GuardThenExec) with pipes for its standard input, output and
// error: fds gets our ends of them, in that order.
Result<pid_t> Spawn(const std::vector<std::string>& argv, int fds[3]) {
  if (argv.empty()) return Error{"no command to run"};
  int in[2], out[2], err[2];
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
    return Error{std::string("cannot create pipes: ") + ErrnoText(errno)};
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const std::string cannot_run = "cannot run " + argv[0] + ": ";
  const pid_t reconcile = ::getpid();
  // A signal sent to the child before it is on its own (a stream that failed at once kills
  // it) must meet the default action, not a handler of ours: one that allocates deadlocks in
  // a child forked from threads, and one that only counts lets the command run after all. So
  // every signal waits while the child puts the handlers back.
  sigset_t all, before;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &before);
  pid_t pid = ::fork();
  if (pid == 0) {
    for (int sig = 1; sig < NSIG; ++sig)
      if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
    ::sigprocmask(SIG_SETMASK, &before, nullptr);
    ::dup2(in[0], 0);
    ::dup2(out[1], 1);
    ::dup2(err[1], 2);
    ::close_range(3, ~0U, 0);  // other threads' pipes: their commands must see EOF without us
    GuardThenExec(reconcile, args.data(), cannot_run);
  }
  int fork_errno = errno;
  ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
  if (pid < 0) return Error{std::string("cannot fork: ") + ErrnoText(fork_errno)};
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  fds[0] = in[1];
  fds[1] = out[0];
  fds[2] = err[0];
  return pid;
}

}  // namespace

Result<CommandResult> LocalShell::Run(const std::vector<std::string>& argv, const std::string& input) {
  CommandStreams streams;
  bool given = false;
  if (!input.empty()) {
    streams.input = [&]() -> Result<std::string> {
      if (given) return std::string();
      given = true;
      return input;
    };
  }
  return RunStreamed(argv, streams);
}

Result<CommandResult> LocalShell::RunStreamed(const std::vector<std::string>& argv, const CommandStreams& streams) {
  int ends[3];
  auto spawned = Spawn(argv, ends);
  if (!spawned) return spawned.error();
  const pid_t pid = *spawned;
  CommandResult r;
  std::string in;
  std::size_t sent = 0;
  std::string failure;
  if (!streams.input) ::close(ends[0]), ends[0] = -1;
  // Feed stdin and drain stdout/stderr together, so neither side blocks on a full pipe.
  pollfd fds[3] = {{ends[1], POLLIN, 0}, {ends[2], POLLIN, 0}, {ends[0], POLLOUT, 0}};
  int open = 2 + (ends[0] >= 0);
  char buf[32768];
  auto close_input = [&] {
    ::close(fds[2].fd);
    fds[2].fd = -1;
    --open;
  };
  // A stream that fails ends the command: its guard kills it and what it started. Its input
  // stays open until it is gone, so it never takes the cut for the end.
  int held = -1;
  auto abandon = [&](const std::string& why) {
    if (failure.empty()) failure = why;
    ::kill(pid, SIGTERM);
    if (fds[2].fd >= 0) held = fds[2].fd, fds[2].fd = -1, --open;
  };
  while (open > 0) {
    if (::poll(fds, 3, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        if (i == 1 || !streams.output) {
          (i == 0 ? r.out : r.err).append(buf, static_cast<std::size_t>(n));
        } else if (failure.empty()) {
          if (Status taken = streams.output(std::string_view(buf, static_cast<std::size_t>(n))); !taken)
            abandon(taken.message());
        }
      } else {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open;
      }
    }
    if (fds[2].fd >= 0 && (fds[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
      if (sent == in.size()) {
        Result<std::string> piece = streams.input();
        if (!piece) {
          abandon(piece.error().message);
          continue;
        }
        in = std::move(*piece), sent = 0;
        if (in.empty()) {
          close_input();
          continue;
        }
      }
      ssize_t n = ::write(fds[2].fd, in.data() + sent, in.size() - sent);
      if (n > 0) sent += static_cast<std::size_t>(n);
      if (n < 0) close_input();
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (held >= 0) ::close(held);
  if (!failure.empty()) return Error{failure};
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

Status LocalShell::WriteFile(const FileWriteRequest& request) {
  file::FileWrite w;
  w.content = request.content;
  w.mode = request.mode;
  w.owner = request.owner;
  w.group = request.group;
  return file::WriteLocalFile(request.path, w);
}

}  // namespace reconcile
