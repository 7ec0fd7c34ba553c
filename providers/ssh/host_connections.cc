#include "providers/ssh/host_connections.h"

#include <atomic>
#include <map>
#include <random>
#include <thread>

#include "engine/hash.h"
#include "providers/ssh/host_provider.h"
#include "providers/ssh/local_shell.h"
#include "providers/ssh/ssh_session.h"

namespace reconcile {

namespace {

constexpr std::size_t kMaxHostsAtOnce = 16;

std::string RandomMarker() {
  std::random_device rd;
  std::uniform_int_distribution<int> hex(0, 15);
  std::string m = "@@reconcile-part-";
  for (int i = 0; i < 16; ++i) m += "0123456789abcdef"[hex(rd)];
  return m;
}

// Each part runs in a subshell with its standard error kept apart; after it, a marker line
// carries its exit code and its standard error in base64.
std::string JointScript(const std::vector<ProbePart>& parts, const std::string& marker) {
  // The traps come first, and mktemp finishes whatever comes (the shell's trap runs once it
  // has), so no signal leaves a file made whose name the shell never learnt. The EXIT trap
  // ignores the signals that would end it before its rm: with reconcile gone, a SIGPIPE (the
  // shell flushes its output before it forks rm) and the TERM its guard sends.
  std::string s = "e=; trap 'trap \"\" HUP INT PIPE TERM; [ -z \"$e\" ] || rm -f \"$e\"' EXIT; " +
                  std::string(kExitOnSignal) + "\ne=$(trap '' HUP INT TERM; mktemp) || exit 1\n";
  for (const ProbePart& p : parts)
    s += "( " + p.script + "\n) 2>\"$e\" </dev/null; printf '\\n" + marker + " %s ' $?; base64 -w0 \"$e\"; echo\n";
  return s;
}

struct HostJob {
  const HostConfig* host = nullptr;
  std::map<std::size_t, std::vector<std::size_t>> by_batch;  // batch → its targets on this host
};

void ProbeHost(HostConnections& hosts, HostJob& job, std::vector<ProbeBatch>& batches) {
  auto shell = hosts.For(*job.host);
  if (!shell) {
    for (auto& [b, indices] : job.by_batch)
      for (std::size_t i : indices) batches[b].out[i] = shell.error();
    return;
  }
  std::vector<ProbePart> parts;
  for (auto& [b, indices] : job.by_batch) {
    auto* provider = dynamic_cast<HostProvider*>(batches[b].provider);
    std::vector<const Target*> targets;
    std::vector<Result<State>*> out;
    for (std::size_t i : indices) {
      targets.push_back(batches[b].targets[i]);
      out.push_back(&batches[b].out[i]);
    }
    for (ProbePart& p : provider->ProbeOn(**shell, *job.host, targets, out)) parts.push_back(std::move(p));
  }
  if (parts.empty()) return;
  std::string marker = RandomMarker();
  auto r = ReadScript(**shell, JointScript(parts, marker));
  if (r && r->exit_code != 0 && r->out.empty())
    r = Error{"the probe script failed on " + (*shell)->Describe() + " (exit " + std::to_string(r->exit_code) +
              "): " + r->err};
  Result<std::vector<CommandResult>> split = Error{"not run"};
  if (!r) {
    split = r.error();
  } else {
    split = SplitProbeOutput(r->out, marker, parts.size());
    if (!split) split = Error{(*shell)->Describe() + ": " + split.error().message};
  }
  for (std::size_t k = 0; k < parts.size(); ++k)
    parts[k].read(split ? Result<CommandResult>((*split)[k]) : Result<CommandResult>(split.error()));
}

}  // namespace

Result<std::vector<CommandResult>> SplitProbeOutput(const std::string& out, const std::string& marker,
                                                    std::size_t parts) {
  std::vector<CommandResult> results;
  std::string sep = "\n" + marker + " ";
  std::size_t pos = 0;
  for (std::size_t k = 0; k < parts; ++k) {
    std::size_t at = out.find(sep, pos);
    if (at == std::string::npos) return Error{"the probe's output ended early, at part " + std::to_string(k + 1)};
    CommandResult c;
    c.out = out.substr(pos, at - pos);
    std::size_t line_end = out.find('\n', at + sep.size());
    if (line_end == std::string::npos) return Error{"the probe's output was cut off"};
    std::string tail = out.substr(at + sep.size(), line_end - at - sep.size());
    std::size_t space = tail.find(' ');
    try {
      c.exit_code = std::stoi(tail.substr(0, space));
    } catch (...) {
      return Error{"the probe's output is damaged near '" + tail.substr(0, 40) + "'"};
    }
    if (space != std::string::npos && !Base64Decode(tail.substr(space + 1), &c.err))
      return Error{"the probe's error output is damaged"};
    results.push_back(std::move(c));
    pos = line_end + 1;
  }
  return results;
}

void RunProbePart(RemoteShell& shell, const ProbePart& part) { part.read(ReadScript(shell, part.script)); }

Result<CommandResult> ReadScript(RemoteShell& shell, const std::string& script) {
  // In braces, the shell reads the whole script before it runs any of it, so no command in it
  // can read the rest as its own input; they get none.
  return shell.Read({"sh", "-s"}, "{\n" + script + "\n} </dev/null\n");
}

std::unique_ptr<RemoteShell> HostConnections::Connect(const HostConfig& host) {
  if (host.local) return std::make_unique<LocalShell>();
  return std::make_unique<SshSession>(host);
}

Result<RemoteShell*> HostConnections::For(const HostConfig& host) {
  std::lock_guard<std::mutex> g(mu_);
  auto it = shells_.find(host.name);
  if (it == shells_.end()) it = shells_.emplace(host.name, factory_(host)).first;
  return it->second.get();
}

void HostConnections::Probe(std::vector<ProbeBatch>* batches) {
  std::map<const HostConfig*, HostJob> jobs;
  for (std::size_t b = 0; b < batches->size(); ++b) {
    ProbeBatch& batch = (*batches)[b];
    batch.out.assign(batch.targets.size(), Error{"not probed"});
    for (std::size_t i = 0; i < batch.targets.size(); ++i) {
      const HostConfig* host = batch.targets[i]->host ? batch.targets[i]->host : &LocalHost();
      jobs[host].host = host;
      jobs[host].by_batch[b].push_back(i);
    }
  }
  // Hosts side by side, each over its own connection; a worker takes the next host as soon as
  // it is done with one, so one slow host holds up no other.
  std::vector<HostJob*> queue;
  for (auto& [host, job] : jobs) queue.push_back(&job);
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> workers;
  for (std::size_t w = 0; w < std::min(queue.size(), kMaxHostsAtOnce); ++w)
    workers.emplace_back([&] {
      for (std::size_t k = next++; k < queue.size(); k = next++) ProbeHost(*this, *queue[k], *batches);
    });
  for (std::thread& t : workers) t.join();
}

void HostProvider::Probe(std::span<const Target* const> targets, std::vector<Result<State>>* out) {
  std::vector<ProbeBatch> batches(1);
  batches[0].provider = this;
  batches[0].targets.assign(targets.begin(), targets.end());
  hosts_->Probe(&batches);
  *out = std::move(batches[0].out);
}

ProbeGroup* HostProvider::probe_group() { return hosts_.get(); }

}  // namespace reconcile
