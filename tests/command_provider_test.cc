// The `command` provider on this machine, called directly with real commands: what Probe
// reads from `check`, what Apply and undo run, what a failure says, and that argv never
// meets a shell unless the spec set shell = true.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "providers/command/command_provider.h"
#include "providers/ssh/host_connections.h"
#include "providers/ssh/local_shell.h"
#include "tests/support/temp_dir.h"

using namespace reconcile;
namespace fs = std::filesystem;

namespace {

struct Local {
  HostConfig host{"local", true};
  CommandProvider provider{std::make_shared<HostConnections>()};
  TypeSchema schema = provider.Types()[0];

  Target For(AttrMap desired) { return Target{"command.t", &schema, std::move(desired), &host}; }

  Result<State> Probe(const Target& t) {
    std::vector<const Target*> batch = {&t};
    std::vector<Result<State>> out;
    provider.Probe(batch, &out);
    REQUIRE(out.size() == 1);
    return out[0];
  }

  Result<State> Apply(Action action, const Target& t) { return provider.Apply(Change{action, t, {}, {}}); }
};

std::string Message(const Result<State>& r) { return r ? std::string() : r.error().message; }

}  // namespace

TEST_CASE("probe: a passing check reads back the spec's commands, a failing or absent one reads absent") {
  Local l;
  AttrMap passing = {
      {"check", StringList{"/bin/true"}}, {"apply", StringList{"/bin/true"}}, {"revert", StringList{"/bin/false"}}};
  auto in_state = l.Probe(l.For(passing));
  REQUIRE(in_state);
  CHECK(in_state->exists);
  CHECK(in_state->attrs == passing);  // so the diff finds nothing to change

  auto out_of_state = l.Probe(l.For({{"check", StringList{"/bin/false"}}, {"apply", StringList{"/bin/true"}}}));
  REQUIRE(out_of_state);
  CHECK_FALSE(out_of_state->exists);

  auto unknown = l.Probe(l.For({{"apply", StringList{"/bin/true"}}}));
  REQUIRE(unknown);
  CHECK_FALSE(unknown->exists);

  auto missing = l.Probe(l.For({{"check", StringList{"/no/such/program"}}, {"apply", StringList{"/bin/true"}}}));
  REQUIRE(missing);
  CHECK_FALSE(missing->exists);  // exit 127, as a shell would report it
}

TEST_CASE("apply runs `apply`, delete runs `revert`, and check confirms each") {
  TempDir dir;
  Local l;
  std::string flag = (dir.path / "flag").string();
  Target t = l.For({{"check", StringList{"test", "-e", flag}},
                    {"apply", StringList{"touch", flag}},
                    {"revert", StringList{"rm", flag}}});
  auto before = l.Probe(t);
  REQUIRE(before);
  CHECK_FALSE(before->exists);

  auto made = l.Apply(Action::kCreate, t);
  REQUIRE_MESSAGE(made, Message(made));
  CHECK(made->exists);
  CHECK(fs::exists(flag));
  auto after = l.Probe(t);
  REQUIRE(after);
  CHECK(after->exists);

  auto undone = l.Apply(Action::kDelete, t);
  REQUIRE_MESSAGE(undone, Message(undone));
  CHECK_FALSE(undone->exists);
  CHECK_FALSE(fs::exists(flag));
}

TEST_CASE("a failing apply says its exit status and the tail of what it printed") {
  Local l;
  auto plain = l.Apply(Action::kCreate, l.For({{"apply", StringList{"/bin/false"}}}));
  REQUIRE_FALSE(plain);
  CHECK(plain.error().message == "command.t: `apply` exited 1 on local");

  // 100,000 lines on stdout: the error keeps the end, not the whole flood.
  auto loud = l.Apply(Action::kCreate, l.For({{"apply", StringList{"sh", "-c", "seq 1 100000; exit 3"}}}));
  REQUIRE_FALSE(loud);
  const std::string& m = loud.error().message;
  CHECK(m.find("command.t: `apply` exited 3 on local:\n") == 0);
  CHECK(m.ends_with("\n99999\n100000\n"));
  CHECK(m.size() < 2200);

  auto liar =
      l.Apply(Action::kCreate, l.For({{"check", StringList{"/bin/false"}}, {"apply", StringList{"/bin/true"}}}));
  REQUIRE_FALSE(liar);
  CHECK(liar.error().message == "command.t: `apply` succeeded but `check` still fails (exit 1)");
}

TEST_CASE("undoing a command without `revert` is refused: the step cannot be undone") {
  TempDir dir;
  Local l;
  std::string flag = (dir.path / "flag").string();
  auto r = l.Apply(Action::kDelete,
                   l.For({{"check", StringList{"test", "-e", flag}}, {"apply", StringList{"touch", flag}}}));
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "command.t has no `revert`, so it cannot be undone; add one, or leave it as it is");
}

TEST_CASE("argv is never a shell line: spaces and ; reach the program as written") {
  TempDir dir;
  Local l;
  // Through a shell this would touch DIR/a, ./b and ./c; as argv it is one odd file name.
  std::string odd = (dir.path / "a b; touch c").string();
  Target t = l.For({{"check", StringList{"test", "-e", odd}}, {"apply", StringList{"touch", odd}}});
  auto made = l.Apply(Action::kCreate, t);
  REQUIRE_MESSAGE(made, Message(made));
  CHECK(fs::exists(odd));
  CHECK_FALSE(fs::exists(dir.path / "a"));
  CHECK_FALSE(fs::exists("c"));
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);
}

TEST_CASE("with shell = true the commands are shell lines: pipes and && work") {
  TempDir dir;
  Local l;
  std::string file = (dir.path / "greeting").string();
  Target t = l.For({{"shell", true},
                    {"check", "grep -q HELLO '" + file + "' && test -s '" + file + "'"},
                    {"apply", "printf hello | tr a-z A-Z > '" + file + "'"},
                    {"revert", "rm '" + file + "'"}});
  auto before = l.Probe(t);
  REQUIRE(before);
  CHECK_FALSE(before->exists);
  auto made = l.Apply(Action::kCreate, t);
  REQUIRE_MESSAGE(made, Message(made));
  CHECK(ReadText(file) == "HELLO");
  auto after = l.Probe(t);
  REQUIRE(after);
  CHECK(after->exists);
  CHECK(after->attrs.at("shell") == Value(true));
  auto undone = l.Apply(Action::kDelete, t);
  REQUIRE_MESSAGE(undone, Message(undone));
  CHECK_FALSE(fs::exists(file));
}

namespace {

// This machine's shell, keeping every command line it was given: what `ps` would show.
struct WatchedShell : LocalShell {
  std::vector<std::string>* lines;
  explicit WatchedShell(std::vector<std::string>* l) : lines(l) {}
  Result<CommandResult> Run(const std::vector<std::string>& argv, const std::string& input) override {
    lines->push_back(ShellCommand(argv));
    return LocalShell::Run(argv, input);
  }
};

}  // namespace

TEST_CASE("env and path reach check, apply and revert; the values are in no command line") {
  TempDir dir;
  std::vector<std::string> lines;
  HostConfig host{"local", true};
  CommandProvider provider{
      std::make_shared<HostConnections>([&](const HostConfig&) { return std::make_unique<WatchedShell>(&lines); })};
  TypeSchema schema = provider.Types()[0];
  std::string out = (dir.path / "env").string();
  // Spaces, quotes, a newline, a backslash and non-ASCII bytes all arrive as they are.
  std::string secret = "it's a \"secret\"\n\\0101 $HOME ü";
  std::string script = "printf '%s|%s|%s' \"$TOKEN\" \"$MODE\" \"$PATH\" > " + ShellQuote(out);
  AttrMap desired = {{"check", StringList{"sh", "-c", "[ \"$MODE\" = fast ] && [ -e " + ShellQuote(out) + " ]"}},
                     {"apply", StringList{"sh", "-c", script}},
                     {"revert", StringList{"sh", "-c", "[ \"$MODE\" = fast ] && rm " + ShellQuote(out)}},
                     {"env", StringList{"MODE=fast", "TOKEN=" + secret}},
                     {"path", "/usr/bin:/bin"}};
  Target t{"command.t", &schema, desired, &host};

  std::vector<const Target*> batch = {&t};
  std::vector<Result<State>> probed;
  provider.Probe(batch, &probed);
  REQUIRE(probed[0]);
  CHECK_FALSE(probed[0]->exists);

  auto applied = provider.Apply(Change{Action::kCreate, t, {}, {}});
  REQUIRE_MESSAGE(applied, Message(applied));
  CHECK(ReadText(out) == secret + "|fast|/usr/bin:/bin");
  provider.Probe(batch, &probed);
  REQUIRE(probed[0]);
  CHECK(probed[0]->exists);  // the check saw MODE too

  auto reverted = provider.Apply(Change{Action::kDelete, t, {}, {}});
  REQUIRE_MESSAGE(reverted, Message(reverted));
  CHECK_FALSE(fs::exists(out));

  REQUIRE(lines.size() >= 5);
  for (const std::string& line : lines) {
    CHECK(line.find("secret") == std::string::npos);
    CHECK(line.find("/usr/bin:/bin") == std::string::npos);
  }
}
