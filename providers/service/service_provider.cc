#include "providers/service/service_provider.h"

#include <chrono>
#include <map>
#include <sstream>
#include <thread>

#include "engine/duration.h"

namespace reconcile {

namespace {

std::vector<std::string> Supervisorctl(const Target& t, std::vector<std::string> args) {
  std::vector<std::string> argv = {"supervisorctl"};
  std::string conf = StringAttr(t.desired, "supervisor_config");
  if (!conf.empty()) argv.insert(argv.end(), {"-c", conf});
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

bool Running(const std::string& state) { return state == "RUNNING" || state == "STARTING" || state == "BACKOFF"; }

State FromSupervisor(const Target& t, const ProgramStatus& st) {
  State s;
  s.exists = true;
  s.attrs["name"] = StringAttr(t.desired, "name");
  s.attrs["state"] = std::string(Running(st.state) ? "running" : "stopped");
  return s;
}

Result<State> ProbeSystemd(RemoteShell& shell, const Target& t) {
  std::string name = StringAttr(t.desired, "name");
  auto active = shell.Run({"systemctl", "is-active", name});
  auto enabled = shell.Run({"systemctl", "is-enabled", name});
  if (!active) return active.error();
  if (!enabled) return enabled.error();
  std::string a = active->out.substr(0, active->out.find('\n'));
  std::string e = enabled->out.substr(0, enabled->out.find('\n'));
  if (e.empty() && a == "inactive" && enabled->exit_code != 0)
    return Error{"systemd on " + shell.Describe() + " has no unit '" + name + "': " + enabled->err};
  State s;
  s.exists = true;
  s.attrs["name"] = name;
  s.attrs["state"] = std::string(a == "active" || a == "activating" ? "running" : "stopped");
  s.attrs["enabled"] = e == "enabled";
  return s;
}

}  // namespace

std::map<std::string, ProgramStatus> ParseSupervisorStatus(const std::string& out) {
  std::map<std::string, ProgramStatus> result;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string name, state;
    words >> name >> state;
    if (name.empty()) continue;
    if (name.back() == ':') {  // "web: ERROR (no such process)"
      name.pop_back();
      result[name].error = line.substr(line.find(':') + 2);
      continue;
    }
    ProgramStatus& st = result[name];
    st.state = state;
    std::size_t pid = line.find(" pid ");
    if (pid != std::string::npos) st.pid = std::stol(line.substr(pid + 5));
  }
  return result;
}

std::vector<TypeSchema> ServiceProvider::Types() const {
  TypeSchema t;
  t.name = "service";
  t.doc = "A program under supervisor or systemd: running or stopped, enabled or not.";
  t.uses_host = true;
  AttrSchema name{"name", AttrType::kString, "the supervisor program or systemd unit"};
  name.required = true;
  name.identity = true;
  AttrSchema state{"state", AttrType::kString, "whether it runs"};
  state.one_of = {"running", "stopped"};
  AttrSchema manager{"manager", AttrType::kString, "what runs it (default systemd)"};
  manager.one_of = {"systemd", "supervisor"};
  manager.setting = true;
  AttrSchema config{"supervisor_config", AttrType::kString, "supervisord.conf for supervisorctl -c (supervisor only)"};
  config.setting = true;
  AttrSchema stop_timeout{"stop_timeout", AttrType::kDuration,
                          "how long stopping may take until its processes are gone (default 30s)"};
  stop_timeout.setting = true;
  t.attrs = {name, state, {"enabled", AttrType::kBool, "started at boot (systemd only)"}, manager, config, stop_timeout};
  return {t};
}

void ServiceProvider::Probe(std::span<const Target* const> targets, std::vector<Result<State>>* out) {
  out->assign(targets.size(), Error{"not probed"});
  // supervisor programs: one `supervisorctl status a b c` per host and config.
  std::map<std::pair<const HostConfig*, std::string>, std::vector<std::size_t>> batches;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const Target& t = *targets[i];
    auto shell = hosts_->For(*t.host);
    if (!shell) {
      (*out)[i] = shell.error();
    } else if (StringAttr(t.desired, "manager", "systemd") == "systemd") {
      (*out)[i] = ProbeSystemd(**shell, t);
    } else {
      batches[{t.host, StringAttr(t.desired, "supervisor_config")}].push_back(i);
    }
  }
  for (auto& [key, indices] : batches) {
    const Target& first = *targets[indices[0]];
    std::vector<std::string> names = {"status"};
    for (std::size_t i : indices) names.push_back(StringAttr(targets[i]->desired, "name"));
    auto shell = hosts_->For(*key.first);
    auto r = (*shell)->Run(Supervisorctl(first, names));
    if (!r || (r->out.empty() && r->exit_code != 0)) {
      std::string why = r ? r->err : r.error().message;
      for (std::size_t i : indices) (*out)[i] = Error{"supervisorctl status on " + (*shell)->Describe() + ": " + why};
      continue;
    }
    auto statuses = ParseSupervisorStatus(r->out);
    for (std::size_t i : indices) {
      std::string name = StringAttr(targets[i]->desired, "name");
      auto it = statuses.find(name);
      if (it == statuses.end() || !it->second.error.empty())
        (*out)[i] = Error{"supervisor on " + (*shell)->Describe() + " has no program '" + name + "'" +
                          (it == statuses.end() ? "" : " (" + it->second.error + ")")};
      else
        (*out)[i] = FromSupervisor(*targets[i], it->second);
    }
  }
}

Result<State> ServiceProvider::Apply(const Change& change) {
  const Target& t = change.target;
  if (change.action == Action::kDelete || change.action == Action::kCreate)
    return Error{t.address + ": a service is started or stopped, not created or removed; set state instead"};
  auto shell_or = hosts_->For(*t.host);
  if (!shell_or) return shell_or.error();
  RemoteShell& shell = **shell_or;
  std::string name = StringAttr(t.desired, "name");
  std::string want = StringAttr(t.desired, "state");
  auto timeout = ParseDuration(StringAttr(t.desired, "stop_timeout", "30s")).value_or(std::chrono::seconds(30));
  auto run = [&](std::vector<std::string> argv) -> Status {
    auto r = shell.Run(argv);
    if (!r) return Error{r.error().message};
    if (r->exit_code != 0)
      return Error{argv[0] + " " + argv[argv.size() - 2] + " " + name + " on " + shell.Describe() + " failed: " +
                   r->out + r->err};
    return Status::Ok();
  };

  if (StringAttr(t.desired, "manager", "systemd") == "systemd") {
    if (auto it = t.desired.find("enabled"); it != t.desired.end() && std::holds_alternative<bool>(it->second)) {
      if (Status s = run({"systemctl", std::get<bool>(it->second) ? "enable" : "disable", name}); !s) return Error{s.message()};
    }
    if (!want.empty()) {
      if (Status s = run({"systemctl", want == "running" ? "start" : "stop", name}); !s) return Error{s.message()};
    }
    return ProbeSystemd(shell, t);
  }

  // supervisor: note the pid first, so a stop can wait until that process is really gone.
  auto before = shell.Run(Supervisorctl(t, {"status", name}));
  if (!before) return before.error();
  ProgramStatus st = ParseSupervisorStatus(before->out)[name];
  if (want == "stopped") {
    if (Status s = run(Supervisorctl(t, {"stop", name})); !s) return Error{s.message()};
    if (st.pid > 0) {
      auto deadline = std::chrono::steady_clock::now() + timeout;
      while (true) {
        auto alive = shell.Run({"kill", "-0", std::to_string(st.pid)});
        if (!alive) return alive.error();
        if (alive->exit_code != 0) break;
        if (std::chrono::steady_clock::now() >= deadline)
          return Error{name + " on " + shell.Describe() + " was told to stop but its process " + std::to_string(st.pid) +
                       " is still there after " + FormatDuration(timeout)};
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  } else if (want == "running") {
    if (Status s = run(Supervisorctl(t, {"start", name})); !s) return Error{s.message()};
  }
  auto after = shell.Run(Supervisorctl(t, {"status", name}));
  if (!after) return after.error();
  return FromSupervisor(t, ParseSupervisorStatus(after->out)[name]);
}

}  // namespace reconcile
