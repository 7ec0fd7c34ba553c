#include "providers/command/command_provider.h"
#include "providers/ssh/host_connections.h"

namespace reconcile {

namespace {

const char* kCommandAttrs[] = {"check", "apply", "revert", "shell", "run", "revert_check"};

// argv as written, or `sh -c LINE` when the spec wrote a line (only allowed with shell = true).
std::optional<std::vector<std::string>> Argv(const AttrMap& a, const char* key) {
  auto it = a.find(key);
  if (it == a.end()) return std::nullopt;
  if (const auto* l = std::get_if<StringList>(&it->second)) return *l;
  if (const auto* s = std::get_if<std::string>(&it->second)) return std::vector<std::string>{"sh", "-c", *s};
  return std::nullopt;
}

// The commands' environment: env's NAME=value entries, then PATH from `path`.
StringList Environment(const AttrMap& a) {
  StringList env = ListAttr(a, "env");
  if (std::string path = StringAttr(a, "path"); !path.empty()) env.push_back("PATH=" + path);
  return env;
}

// Sets the environment, then runs its arguments. The values come on standard input, not in
// the command line: a host's every user sees command lines in `ps`, and with sudo the
// variables must be set after sudo has reset the environment (and PATH after secure_path).
// A line per variable: its name, a space, the value with every byte but [A-Za-z0-9_./,:@%+=-]
// as \0ooo, which printf %b reads back — so values may hold newlines, quotes and spaces.
constexpr char kEnvWrapper[] =
    "while IFS=' ' read -r n v; do v=$(printf '%bx' \"$v\"); export \"$n=${v%x}\"; done; exec \"$@\"";

std::string EnvInput(const StringList& env) {
  static const std::string kPlain = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./,:@%+=-";
  std::string out;
  for (const std::string& e : env) {
    std::size_t eq = e.find('=');
    out += e.substr(0, eq) + " ";
    for (char c : e.substr(eq + 1)) {
      if (kPlain.find(c) != std::string::npos) {
        out += c;
        continue;
      }
      unsigned char b = static_cast<unsigned char>(c);
      out += "\\0" + std::string{char('0' + (b >> 6)), char('0' + ((b >> 3) & 7)), char('0' + (b & 7))};
    }
    out += "\n";
  }
  return out;
}

// Runs argv on the host, in the command's environment when it has one.
// `reads`: the command only reads (a check), so one cut off by a dropped connection may run again.
Result<CommandResult> RunWithEnv(RemoteShell& shell, const std::vector<std::string>& argv, const StringList& env,
                                 bool reads = false) {
  if (env.empty()) return reads ? shell.Read(argv) : shell.Run(argv);
  std::vector<std::string> wrapped = {"sh", "-c", kEnvWrapper, "reconcile-env"};
  wrapped.insert(wrapped.end(), argv.begin(), argv.end());
  return reads ? shell.Read(wrapped, EnvInput(env)) : shell.Run(wrapped, EnvInput(env));
}

std::string Tail(const CommandResult& r) {
  std::string t = r.err.empty() ? r.out : r.err;
  if (t.size() > 2000) t = "…" + t.substr(t.size() - 2000);
  return t;
}

State InState(const AttrMap& desired) {
  State s{true, {}};
  for (const char* key : kCommandAttrs)
    if (auto it = desired.find(key); it != desired.end()) s.attrs[key] = it->second;
  return s;
}

}  // namespace

std::vector<TypeSchema> CommandProvider::Types() const {
  return {{
      .name = "command",
      .doc = "An escape hatch: commands that check, make and undo a state, on a host.",
      // Every attribute a setting: the commands say how to reach the state, not what it is, and a
      // passing check is enough.
      .attrs =
          {
              // clang-format off
              {.name = "check", .type = AttrType::kArgv, .setting = true,
               .doc = "exit status 0 means already in state"},
              {.name = "apply", .type = AttrType::kArgv, .required = true, .setting = true, .doc = "makes it so"},
              {.name = "revert", .type = AttrType::kArgv, .setting = true,
               .doc = "undoes apply (without it, the step cannot be undone)"},
              {.name = "shell", .type = AttrType::kBool, .setting = true,
               .doc = "the commands are shell lines (strings) run by `sh -c`, not argv lists. A `${vars.NAME}` or "
                      "`${TYPE.NAME.attr}` in a line is pasted in unquoted, so the shell reads its `;`, `$( )`, "
                      "quotes and spaces: `--var dir='x; rm -rf /'` would run `rm`. Pass values from --var or "
                      "other resources only in argv lists (shell = false), where each item is one argument"},
              {.name = "run", .type = AttrType::kString, .setting = true, .one_of = {"once", "converge"},
               .doc = "`once` (the default): an event of its stage, run there once (its `check`, if any, asked "
                      "just before), never re-checked or re-run by later stages; a rollback past its stage runs "
                      "`revert`, and without one it stays as it is. `converge`: a state that `check` tells, made "
                      "true by `apply` in any stage where it is not"},
              {.name = "revert_check", .type = AttrType::kBool, .setting = true,
               .doc = "false: a `check` that still passes after `revert` is reported, not a failure (the command "
                      "undoes an event, not a state)"},
              {.name = "env", .type = AttrType::kStringMap, .secret_ok = true, .setting = true,
               .doc = "environment of the commands, { NAME = \"value\" }; a value may be \"env:NAME\" or "
                      "\"file:PATH\", then shown as (sensitive) and never journaled in clear. Passed on the "
                      "commands' standard input, so no value shows in `ps`; set after sudo"},
              {.name = "path", .type = AttrType::kString, .setting = true,
               .doc = "PATH of the commands, e.g. \"/usr/local/bin:/usr/bin:/bin\" where sudo's secure_path lacks "
                      "a tool"},
              // clang-format on
          },
      .uses_host = true,
      .one_shot = true,
      // Its check is asked after what it is `after` has run in the stage, not when the stage begins.
      .probe_when_run = true,
      .shell_attr = "shell",
      .run_attr = "run",
      .undo_attr = "revert",
      .done_check_attr = "check",
  }};
}

std::vector<ProbePart> CommandProvider::ProbeOn(RemoteShell& shell, const HostConfig&,
                                                std::vector<const Target*> targets, std::vector<Result<State>*> out) {
  std::vector<ProbePart> parts;
  for (std::size_t k = 0; k < targets.size(); ++k) {
    auto check = Argv(targets[k]->desired, "check");
    if (!check) {
      *out[k] = State{};  // no way to know: apply every time
      continue;
    }
    // The joint probe script is one command line and has no standard input to spare: a check
    // with an environment runs on its own.
    if (StringList env = Environment(targets[k]->desired); !env.empty()) {
      auto r = RunWithEnv(shell, *check, env, true);
      if (!r) *out[k] = r.error();
      else *out[k] = r->exit_code == 0 ? InState(targets[k]->desired) : State{};
      continue;
    }
    parts.push_back(
        {ShellCommand(*check), [desired = targets[k]->desired, slot = out[k]](const Result<CommandResult>& r) {
           if (!r) *slot = r.error();
           else *slot = r->exit_code == 0 ? InState(desired) : State{};
         }});
  }
  return parts;
}

Result<State> CommandProvider::Apply(const Change& change) {
  const Target& t = change.target;
  bool undo = change.action == Action::kDelete;
  auto argv = Argv(t.desired, undo ? "revert" : "apply");
  if (!argv) return Error{t.address + " has no `revert`, so it cannot be undone; add one, or leave it as it is"};
  auto shell = hosts_->For(*t.host);
  if (!shell) return shell.error();
  StringList env = Environment(t.desired);
  auto r = RunWithEnv(**shell, *argv, env);
  if (!r) return r.error();
  if (r->exit_code != 0)
    return Error{t.address + ": `" + (undo ? "revert" : "apply") + "` exited " + std::to_string(r->exit_code) + " on " +
                 (*shell)->Describe() + (Tail(*r).empty() ? "" : ":\n" + Tail(*r))};
  auto check = Argv(t.desired, "check");
  if (!check) return undo ? State{} : InState(t.desired);
  auto again = RunWithEnv(**shell, *check, env, true);
  if (!again) return again.error();
  bool in_state = again->exit_code == 0;
  if (undo && in_state && t.desired.count("revert_check") && t.desired.at("revert_check") == Value{false}) {
    if (change.report)
      change.report("`revert` ran; `check` still passes (revert_check = false: reported, not a failure)");
    return State{};
  }
  if (in_state == undo)
    return Error{t.address + ": `" + (undo ? "revert" : "apply") + "` succeeded but `check` " +
                 (undo ? "still passes" : "still fails (exit " + std::to_string(again->exit_code) + ")")};
  return undo ? State{} : InState(t.desired);
}

}  // namespace reconcile
