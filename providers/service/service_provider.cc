#include "providers/service/service_provider.h"
#include "providers/ssh/host_connections.h"
#include "providers/service/runit.h"

#include <chrono>
#include <cstdlib>
#include <map>
#include <sstream>
#include <thread>

#include "engine/duration.h"
#include "providers/service/service_names.h"

namespace reconcile {

namespace {

// The [host.NAME] keys services read (ServiceProvider::HostSettings).
std::vector<AttrSchema> HostKeys() {
  return {
      // clang-format off
      {.name = "service_manager", .type = AttrType::kString, .one_of = {"systemd", "supervisor", "runit"},
       .default_value = "systemd",
       .doc = "what runs this host's services, unless a service's `manager` says"},
      {.name = "supervisor_config", .type = AttrType::kString,
       .doc = "supervisord.conf for this host's supervisor services, unless a service gives its own"},
      // clang-format on
  };
}

// The service's host's `key` (service_manager, supervisor_config), else the key's default:
// "local" has no table to write one in, and the loader fills in none.
std::string HostSetting(const Target& t, const char* key) {
  if (t.host)
    if (auto it = t.host->settings.find(key); it != t.host->settings.end())
      if (const std::string* s = AsString(it->second)) return *s;
  static const std::vector<AttrSchema> keys = HostKeys();
  const AttrSchema* a = FindAttr(keys, key);
  return a ? a->default_value : "";
}

// The service's own word, else its host's.
std::string Manager(const Target& t) { return StringAttr(t.desired, "manager", HostSetting(t, "service_manager")); }
bool UnderSystemd(const Target& t) { return Manager(t) == "systemd"; }
bool UnderRunit(const Target& t) { return Manager(t) == "runit"; }

std::string SupervisorConfig(const Target& t) {
  return StringAttr(t.desired, "supervisor_config", HostSetting(t, "supervisor_config"));
}

std::vector<std::string> Supervisorctl(const Target& t, std::vector<std::string> args) {
  std::vector<std::string> argv = {"supervisorctl"};
  std::string conf = SupervisorConfig(t);
  if (!conf.empty()) argv.insert(argv.end(), {"-c", conf});
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

// The name checked again with the manager known (the loader may not have known it): a
// name that reaches systemctl or supervisorctl is one unit or program, never an option.
Status CheckName(const Target& t) {
  std::string name = StringAttr(t.desired, "name");
  std::string why = UnderSystemd(t) ? SystemdUnitNameProblem(name) : SupervisorProgramNameProblem(name);
  if (why.empty()) return Status::Ok();
  return Error{t.address + ": the service name \"" + name + "\" " + why};
}

bool Running(const std::string& state) { return state == "RUNNING" || state == "STARTING" || state == "BACKOFF"; }

State FromSupervisor(const Target& t, const ProgramStatus& st) {
  State s;
  s.exists = true;
  s.attrs["name"] = StringAttr(t.desired, "name");
  s.attrs["state"] = std::string(Running(st.state) ? "running" : "stopped");
  return s;
}

// is-active, is-enabled and is-enabled's exit code, a line each; is-enabled's complaint about
// a missing unit comes back on standard error.
ProbePart SystemdPart(const Target& t, Result<State>* slot) {
  std::string name = StringAttr(t.desired, "name");
  std::string q = ShellQuote(name);
  std::string script = "a=$(systemctl is-active -- " + q + "); e=$(systemctl is-enabled -- " + q +
                       "); r=$?; printf '%s\\n%s\\n%s\\n' \"$a\" \"$e\" \"$r\"";
  return {script, [name, slot](const Result<CommandResult>& r) {
            if (!r) {
              *slot = r.error();
              return;
            }
            std::istringstream in(r->out);
            std::string a, e, code;
            std::getline(in, a);
            std::getline(in, e);
            std::getline(in, code);
            if (e.empty() && a == "inactive" && code != "0") {
              *slot = Error{"systemd has no unit '" + name + "': " + r->err};
              return;
            }
            State s;
            s.exists = true;
            s.attrs["name"] = name;
            s.attrs["state"] = std::string(a == "active" || a == "activating" ? "running" : "stopped");
            s.attrs["enabled"] = e == "enabled";
            *slot = s;
          }};
}

Result<State> ProbeSystemd(RemoteShell& shell, const Target& t) {
  Result<State> state = Error{"not probed"};
  RunProbePart(shell, SystemdPart(t, &state));
  return state;
}

// `systemctl stop` would wait for systemd's own TimeoutStopSec (90 s by default), not ours:
// ask without blocking, then watch until the unit is down and its main process is gone —
// the downtime that follows must not start while the old program still holds its port.
Status StopSystemdUnit(RemoteShell& shell, const std::string& name, std::chrono::milliseconds timeout) {
  std::string q = ShellQuote(name);
  auto pid_or = shell.Read({"systemctl", "show", "--property=MainPID", "--value", "--", name});
  if (!pid_or) return Error{pid_or.error().message};
  long pid = std::atol(pid_or->out.c_str());
  auto stop = shell.Run({"systemctl", "stop", "--no-block", "--", name});
  if (!stop) return Error{stop.error().message};
  if (stop->exit_code != 0)
    return Error{"systemctl stop " + name + " on " + shell.Describe() + " failed: " + stop->out + stop->err};
  std::string watch = "systemctl is-active -- " + q + "; " +
                      (pid > 0 ? "kill -0 " + std::to_string(pid) + " 2>/dev/null && echo alive || echo gone"
                               : std::string("echo gone"));
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string last;
  while (true) {
    auto r = shell.Read({"sh", "-c", watch});
    if (!r) return Error{r.error().message};
    std::istringstream in(r->out);
    std::string active, process;
    std::getline(in, active);
    std::getline(in, process);
    if ((active == "inactive" || active == "failed") && process == "gone") return Status::Ok();
    last = active;
    if (std::chrono::steady_clock::now() >= deadline)
      return Error{name + " on " + shell.Describe() + " was told to stop but is still " + last +
                   (process == "alive" ? ", its process " + std::to_string(pid) + " still there," : "") + " after " +
                   FormatDuration(timeout) + "; see `systemctl status " + name +
                   "` there, or give it longer with stop_timeout"};
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
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

std::vector<AttrSchema> ServiceProvider::HostSettings() const { return HostKeys(); }

std::vector<TypeSchema> ServiceProvider::Types() const {
  return {{
      .name = "service",
      .doc = "A program under supervisor, systemd or runit: running or stopped, enabled or not.",
      .attrs =
          {
              // clang-format off
              {.name = "name", .type = AttrType::kString, .required = true, .identity = true,
               .check = CheckServiceName,
               .doc = "the supervisor program (GROUP:PROGRAM in a group), systemd unit or runit service; never "
                      "starts with '-'"},
              {.name = "state", .type = AttrType::kString, .one_of = {"running", "stopped"},
               .doc = "whether it runs"},
              {.name = "enabled", .type = AttrType::kBool,
               .doc = "started at boot (systemd), or linked into runit_service_dir (runit); not for supervisor"},
              {.name = "manager", .type = AttrType::kString, .setting = true,
               .one_of = {"systemd", "supervisor", "runit"},
               .doc = "what runs it (default: its host's service_manager)"},
              {.name = "supervisor_config", .type = AttrType::kString, .setting = true,
               .doc = "supervisord.conf for supervisorctl -c (supervisor only; default: its host's)"},
              {.name = "stop_timeout", .type = AttrType::kDuration, .setting = true, .default_value = "30s",
               .doc = "how long stopping may take until its processes are gone"},
              {.name = "runit_service_dir", .type = AttrType::kString, .setting = true, .pattern = "^/.*",
               .pattern_hint = "an absolute path (starting with /)",
               .doc = std::string("the folder runsvdir watches; enabled = NAME is linked there (runit only; default ") +
                      runit::kServiceDir + ")"},
              {.name = "runit_sv_dir", .type = AttrType::kString, .setting = true, .pattern = "^/.*",
               .pattern_hint = "an absolute path (starting with /)",
               .doc = std::string("where the service's folder NAME (with its run script) is (runit only; default ") +
                      runit::kSvDir + ")"},
              {.name = "runit_sv", .type = AttrType::kString, .setting = true,
               .doc = std::string("the sv program (runit only; default ") + runit::kSv +
                      "; GitLab's omnibus: /opt/gitlab/embedded/bin/sv)"},
              // clang-format on
          },
      .uses_host = true,
  }};
}

std::vector<ProbePart> ServiceProvider::ProbeOn(RemoteShell& shell, const HostConfig&,
                                                std::vector<const Target*> targets, std::vector<Result<State>*> out) {
  std::vector<ProbePart> parts;
  // supervisor programs: one `supervisorctl status a b c` per config.
  std::map<std::string, std::vector<std::size_t>> batches;
  for (std::size_t k = 0; k < targets.size(); ++k) {
    if (Status bad = CheckName(*targets[k]); !bad) *out[k] = Error{bad.message()};
    else if (UnderSystemd(*targets[k])) parts.push_back(SystemdPart(*targets[k], out[k]));
    else if (UnderRunit(*targets[k])) parts.push_back(RunitPart(*targets[k], shell.Describe(), out[k]));
    else batches[SupervisorConfig(*targets[k])].push_back(k);
  }
  for (auto& [config, ks] : batches) {
    std::vector<std::string> args = {"status"};
    std::vector<const Target*> mine;
    std::vector<Result<State>*> slots;
    for (std::size_t k : ks) {
      args.push_back(StringAttr(targets[k]->desired, "name"));
      mine.push_back(targets[k]);
      slots.push_back(out[k]);
    }
    auto read = [mine, slots, where = shell.Describe()](const Result<CommandResult>& r) {
      if (!r || (r->out.empty() && r->exit_code != 0)) {
        std::string why = r ? r->err : r.error().message;
        for (Result<State>* slot : slots) *slot = Error{"supervisorctl status on " + where + ": " + why};
        return;
      }
      auto statuses = ParseSupervisorStatus(r->out);
      for (std::size_t k = 0; k < mine.size(); ++k) {
        std::string name = StringAttr(mine[k]->desired, "name");
        auto it = statuses.find(name);
        if (it == statuses.end() || !it->second.error.empty())
          *slots[k] = Error{"supervisor on " + where + " has no program '" + name + "'" +
                            (it == statuses.end() ? "" : " (" + it->second.error + ")")};
        else *slots[k] = FromSupervisor(*mine[k], it->second);
      }
    };
    parts.push_back({ShellCommand(Supervisorctl(*mine[0], args)), read});
  }
  return parts;
}

Result<State> ServiceProvider::Apply(const Change& change) {
  const Target& t = change.target;
  if (change.action == Action::kDelete || change.action == Action::kCreate)
    return Error{t.address + ": a service is started or stopped, not created or removed; set state instead"};
  if (Status bad = CheckName(t); !bad) return Error{bad.message()};
  auto shell_or = hosts_->For(*t.host);
  if (!shell_or) return shell_or.error();
  RemoteShell& shell = **shell_or;
  std::string name = StringAttr(t.desired, "name");
  std::string want = StringAttr(t.desired, "state");
  auto timeout = StopTimeout(t);
  auto run = [&](const std::string& verb, std::vector<std::string> argv) -> Status {
    auto r = shell.Run(argv);
    if (!r) return Error{r.error().message};
    if (r->exit_code != 0)
      return Error{argv[0] + " " + verb + " " + name + " on " + shell.Describe() + " failed: " + r->out + r->err};
    return Status::Ok();
  };

  if (UnderRunit(t)) return ApplyRunit(shell, t);
  if (UnderSystemd(t)) {
    if (auto enabled = BoolAttr(t.desired, "enabled")) {
      const char* verb = *enabled ? "enable" : "disable";
      if (Status s = run(verb, {"systemctl", verb, "--", name}); !s) return Error{s.message()};
    }
    if (want == "running") {
      if (Status s = run("start", {"systemctl", "start", "--", name}); !s) return Error{s.message()};
    } else if (want == "stopped") {
      if (Status s = StopSystemdUnit(shell, name, timeout); !s) return Error{s.message()};
    }
    return ProbeSystemd(shell, t);
  }

  // supervisor: note the pid first, so a stop can wait until that process is really gone.
  auto before = shell.Read(Supervisorctl(t, {"status", name}));
  if (!before) return before.error();
  ProgramStatus st = ParseSupervisorStatus(before->out)[name];
  if (want == "stopped") {
    if (Status s = run("stop", Supervisorctl(t, {"stop", name})); !s) return Error{s.message()};
    if (st.pid > 0) {
      auto deadline = std::chrono::steady_clock::now() + timeout;
      while (true) {
        auto alive = shell.Read({"kill", "-0", std::to_string(st.pid)});
        if (!alive) return alive.error();
        if (alive->exit_code != 0) break;
        if (std::chrono::steady_clock::now() >= deadline)
          return Error{name + " on " + shell.Describe() + " was told to stop but its process " +
                       std::to_string(st.pid) + " is still there after " + FormatDuration(timeout)};
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  } else if (want == "running") {
    if (Status s = run("start", Supervisorctl(t, {"start", name})); !s) return Error{s.message()};
  }
  auto after = shell.Read(Supervisorctl(t, {"status", name}));
  if (!after) return after.error();
  return FromSupervisor(t, ParseSupervisorStatus(after->out)[name]);
}

}  // namespace reconcile
