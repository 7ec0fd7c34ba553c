#include "providers/service/runit.h"

#include <chrono>
#include <sstream>
#include <thread>

#include "engine/duration.h"

namespace reconcile {

namespace {

struct Paths {
  std::string name, link, folder, sv;
};

Paths PathsOf(const Target& t) {
  Paths p;
  p.name = StringAttr(t.desired, "name");
  p.link = StringAttr(t.desired, "runit_service_dir", runit::kServiceDir) + "/" + p.name;
  p.folder = StringAttr(t.desired, "runit_sv_dir", runit::kSvDir) + "/" + p.name;
  p.sv = StringAttr(t.desired, "runit_sv", runit::kSv);
  return p;
}

// Three facts a line each; `sv` is given the link's full path, so SVDIR does not matter.
std::string ProbeScript(const Paths& p) {
  std::string link = ShellQuote(p.link), folder = ShellQuote(p.folder);
  return "if [ -d " + folder + " ]; then echo defined; else echo undefined; fi; if [ -L " + link + " ] || [ -e " +
         link + " ]; then echo enabled; " + ShellQuote(p.sv) + " status " + link + " 2>&1; else echo disabled; fi";
}

Result<State> ToState(const Paths& p, const Result<CommandResult>& r, const std::string& where) {
  if (!r) return r.error();
  RunitStatus st = ParseRunitProbe(r->out);
  if (!st.defined && !st.enabled)
    return Error{"runit on " + where + " has no service '" + p.name + "': no folder " + p.folder +
                 " (with its run script)"};
  if (st.enabled && st.word.empty())
    return Error{"`sv status " + p.link + "` on " + where + " said nothing: " + r->err};
  State s;
  s.exists = true;
  s.attrs["name"] = p.name;
  s.attrs["state"] = std::string(st.running() ? "running" : "stopped");
  s.attrs["enabled"] = st.enabled;
  return s;
}

int Seconds(std::chrono::milliseconds d) { return std::max<int>(1, static_cast<int>((d.count() + 999) / 1000)); }

}  // namespace

RunitStatus ParseRunitProbe(const std::string& out) {
  RunitStatus st;
  std::istringstream in(out);
  std::string line;
  std::getline(in, line);
  st.defined = line == "defined";
  std::getline(in, line);
  st.enabled = line == "enabled";
  if (st.enabled && std::getline(in, line)) {
    st.message = line;
    st.word = line.substr(0, line.find(':'));
  }
  return st;
}

ProbePart RunitPart(const Target& t, const std::string& where, Result<State>* slot) {
  Paths p = PathsOf(t);
  return {ProbeScript(p), [p, where, slot](const Result<CommandResult>& r) { *slot = ToState(p, r, where); }};
}

std::chrono::milliseconds StopTimeout(const Target& t) {
  Value v = DesiredValue(t, "stop_timeout");
  auto d = AsString(v) ? ParseDuration(*AsString(v)) : std::nullopt;
  return d.value_or(std::chrono::milliseconds(0));  // the loader let only durations through
}

Result<State> ApplyRunit(RemoteShell& shell, const Target& t) {
  Paths p = PathsOf(t);
  auto timeout = StopTimeout(t);
  std::string wait = std::to_string(Seconds(timeout));
  auto probe = [&]() -> Result<RunitStatus> {
    auto r = shell.Run({"sh", "-c", ProbeScript(p)});
    if (!r) return r.error();
    return ParseRunitProbe(r->out);
  };
  auto st = probe();
  if (!st) return st.error();
  auto run = [&](std::vector<std::string> argv, const std::string& hint) -> Status {
    auto r = shell.Run(argv);
    if (!r) return Error{r.error().message};
    if (r->exit_code != 0)
      return Error{ShellCommand(argv) + " on " + shell.Describe() + " failed (exit " + std::to_string(r->exit_code) +
                   "): " + r->out + r->err + hint};
    return Status::Ok();
  };
  std::optional<bool> want_enabled = BoolAttr(t.desired, "enabled");
  std::string want = StringAttr(t.desired, "state");

  if (want_enabled == true && !st->enabled) {
    if (!st->defined) return Error{t.address + ": no folder " + p.folder + " on " + shell.Describe() + " to link"};
    if (Status s = run({"ln", "-s", p.folder, p.link}, ""); !s) return Error{s.message()};
    // runsvdir looks at its folder every 5 seconds and then starts a runsv for the link;
    // until then `sv` has no one to tell.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (true) {
      st = probe();
      if (!st) return st.error();
      if (st->supervised()) break;
      if (std::chrono::steady_clock::now() >= deadline)
        return Error{t.address + ": linked " + p.link + " on " + shell.Describe() +
                     ", but no runsv took it up within 15s (is runsvdir watching that folder?): " + st->message};
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }
  if (want == "running") {
    if (!st->enabled)
      return Error{t.address + ": cannot start " + p.name + " on " + shell.Describe() + ": it is not enabled (no " +
                   p.link + "); set enabled = true"};
    if (Status s = run({p.sv, "-w", wait, "start", p.link}, ""); !s) return Error{s.message()};
  } else if (want == "stopped" || want_enabled == false) {
    // `sv stop` waits until the process is gone (or the time is up, and says so).
    if (st->supervised() && st->word != "down")
      if (Status s = run({p.sv, "-w", wait, "stop", p.link}, "; give it longer with stop_timeout"); !s)
        return Error{s.message()};
  }
  if (want_enabled == false && st->enabled) {
    // Only the link goes: the service's folder is its definition, not reconcile's to remove.
    if (Status s = run({"sh", "-c", "[ -L \"$1\" ] && rm -f -- \"$1\" || { echo \"$1 is not a link\"; exit 1; }",
                        "reconcile-disable", p.link},
                       "");
        !s)
      return Error{s.message()};
    // runsvdir notices within 5 seconds and ends the service's runsv. Until it has, a new
    // link would find the old runsv on its way out: disabled means no runsv is left.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15) + timeout;
    while (true) {
      auto left = shell.Run({p.sv, "status", p.folder});
      if (!left) return left.error();
      std::string word = left->out.substr(0, left->out.find(':'));
      if (word != "run" && word != "down" && word != "finish") break;
      if (std::chrono::steady_clock::now() >= deadline)
        return Error{t.address + ": removed " + p.link + " on " + shell.Describe() +
                     ", but its runsv is still there (is runsvdir watching that folder?): " + left->out};
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  }
  auto r = shell.Run({"sh", "-c", ProbeScript(p)});
  return ToState(p, r, shell.Describe());
}

}  // namespace reconcile
