// The OpenSSH client config reader: what `ssh NAME` would use, as ssh_config(5) says — first
// value wins, Host patterns and negation, Include globs under ~/.ssh, Match skipped with a
// note — and errors at their file:line. The expectations agree with `ssh -G` (OpenSSH 9.2) on
// the same configs, Match blocks aside.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "providers/ssh/ssh_config.h"
#include "tests/support/temp_dir.h"

using namespace reconcile;
namespace fs = std::filesystem;

namespace {

using Files = std::vector<std::string>;

SshConfigEntry Parse(const std::string& text, const std::string& host, const std::string& home = "/home/ann") {
  auto r = ParseSshConfig(text, "cfg", host, home, "ann");
  REQUIRE_MESSAGE(r, r.error().message);
  return *r;
}

std::string ParseError(const std::string& text, const std::string& host = "web") {
  auto r = ParseSshConfig(text, "cfg", host, "/home/ann", "ann");
  REQUIRE_FALSE(r);
  CHECK(r.error().located);
  return r.error().message;
}

void Write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

}  // namespace

TEST_CASE("the first value obtained wins; lines before any Host apply to every host") {
  const std::string cfg =
      "User early\n"
      "Host web\n"
      "  HostName web.internal\n"
      "  User deploy\n"
      "  Port 2201\n"
      "  ProxyJump bastion\n"
      "Host web *\n"
      "  HostName other\n"
      "  Port 2202\n"
      "  ProxyJump other\n";
  auto web = Parse(cfg, "web");
  CHECK(web.hostname == "web.internal");
  CHECK(web.user == "early");
  CHECK(web.port == 2201);
  CHECK(web.proxy_jump == "bastion");
  auto db = Parse(cfg, "db");
  CHECK(db.hostname == "other");
  CHECK(db.user == "early");
  CHECK(db.port == 2202);
  // Nothing said: nothing set, for the caller's own defaults.
  auto bare = Parse("Host web\n  Port 1\n", "db");
  CHECK_FALSE(bare.hostname);
  CHECK_FALSE(bare.user);
  CHECK_FALSE(bare.port);
  CHECK_FALSE(bare.proxy_jump);
  CHECK(bare.identity_files.empty());
  CHECK(bare.ignored.empty());
}

TEST_CASE("Host patterns: * and ?, several per line, and a negated match excludes the block") {
  const std::string cfg =
      "Host *.prod.example !bastion.prod.example\n"
      "  User prod\n"
      "Host db? cache\n"
      "  User data\n"
      "Host *\n"
      "  User fallback\n";
  CHECK(Parse(cfg, "app.prod.example").user == "prod");
  CHECK(Parse(cfg, "bastion.prod.example").user == "fallback");  // the negation wins over the *
  CHECK(Parse(cfg, "prod.example").user == "fallback");          // *. needs the dot
  CHECK(Parse(cfg, "db1").user == "data");
  CHECK(Parse(cfg, "db12").user == "fallback");  // ? is one character
  CHECK(Parse(cfg, "cache").user == "data");
  // Patterns are matched against the name as given, case and all, as ssh does.
  CHECK(Parse(cfg, "DB1").user == "fallback");
  // A negation alone matches nothing: the block applies to no host.
  CHECK_FALSE(Parse("Host !web\n  User x\n", "db").user);
}

TEST_CASE("Keyword=value, keywords in any case, quotes, escapes and comments") {
  auto e = Parse(
      "# a comment\n"
      "Host=web\n"
      "  hOsTnAmE = web.internal   # trailing comment\n"
      "  PORT=2222\n"
      "  User \"deploy\"\n"
      "  IdentityFile \"~/keys/my key\"\n"
      "  IdentityFile ~/keys/other\\ key\n"
      "  UserKnownHostsFile '~/known hosts' ~/kh#2\n",
      "web");
  CHECK(e.hostname == "web.internal");
  CHECK(e.port == 2222);
  CHECK(e.user == "deploy");
  CHECK(e.identity_files == Files{"/home/ann/keys/my key", "/home/ann/keys/other key"});
  // '#' ends the line only where a word starts.
  CHECK(e.user_known_hosts_files == Files{"/home/ann/known hosts", "/home/ann/kh#2"});
}

TEST_CASE("%h and %% in HostName; ~ and tokens in IdentityFile and UserKnownHostsFile") {
  auto e = Parse(
      "Host Web\n"
      "  HostName %h.Internal.example\n"
      "  HostName ignored\n"
      "  IdentityFile ~/.ssh/id_%h\n"
      "  IdentityFile %d/keys/%u-%r@%n:%p\n"
      "  User deploy\n"
      "  Port 2200\n"
      "  UserKnownHostsFile ~/.ssh/kh_%h 100%%\n",
      "Web");
  // ssh connects to the name lowercased; %h in paths is that name, %n the name as given.
  CHECK(e.hostname == "web.internal.example");
  CHECK(e.identity_files == Files{"/home/ann/.ssh/id_web.internal.example", "/home/ann/keys/ann-deploy@Web:2200"});
  CHECK(e.user_known_hosts_files == Files{"/home/ann/.ssh/kh_web.internal.example", "100%"});
  // No User: %r is the local user; no Port: %p is 22; no HostName: %h is the name given.
  CHECK(Parse("IdentityFile ~/%r-%p-%h\n", "Db").identity_files == Files{"/home/ann/ann-22-db"});
}

TEST_CASE("IdentityFile accumulates, in order and once each; UserKnownHostsFile is the first line's") {
  auto e = Parse(
      "Host web\n"
      "  IdentityFile ~/.ssh/web\n"
      "  UserKnownHostsFile ~/.ssh/kh_web ~/.ssh/kh_shared\n"
      "Host *\n"
      "  IdentityFile ~/.ssh/default\n"
      "  IdentityFile %d/.ssh/web\n"
      "  UserKnownHostsFile ~/.ssh/kh_all\n",
      "web");
  CHECK(e.identity_files == Files{"/home/ann/.ssh/web", "/home/ann/.ssh/default"});
  CHECK(e.user_known_hosts_files == Files{"/home/ann/.ssh/kh_web", "/home/ann/.ssh/kh_shared"});
  // "none" stays: it tells the caller not to try ssh's default keys either.
  CHECK(Parse("IdentityFile none\nIdentityFile ~/k\n", "web").identity_files == Files{"none", "/home/ann/k"});
}

TEST_CASE("ProxyJump and ProxyCommand: whichever comes first wins, and ProxyCommand is noted") {
  auto e = Parse("Host web\n  ProxyCommand nc -x proxy %h %p\nHost *\n  ProxyJump bastion\n", "web");
  CHECK_FALSE(e.proxy_jump);
  CHECK(e.ignored == Files{"cfg:2: ProxyCommand is not supported: no proxy is used"});
  auto none = Parse("ProxyJump none\nProxyJump bastion\n", "web");
  CHECK(none.proxy_jump == "none");
  CHECK(none.ignored.empty());
}

TEST_CASE("Match blocks are skipped up to the next Host, with a note naming the line") {
  auto e = Parse(
      "Host web\n"
      "  User deploy\n"
      "Match host web exec \"true\"\n"
      "  HostName from-match\n"
      "  Port 1111\n"
      "Host web\n"
      "  HostName web.internal\n"
      "Match User root\n"
      "  IdentityFile ~/.ssh/match\n"
      "Match all\n"
      "  Port 2222\n",
      "web");
  CHECK(e.user == "deploy");
  CHECK(e.hostname == "web.internal");
  CHECK(e.identity_files.empty());
  CHECK(e.port == 2222);  // "Match all" applies, like Host *
  CHECK(e.ignored == Files{"cfg:3: Match is not supported: its block is skipped",
                           "cfg:8: Match is not supported: its block is skipped"});
}

TEST_CASE("Include: relative to ~/.ssh, globs in sorted order, and a block's state kept apart") {
  TempDir home;
  const fs::path ssh = home.path / ".ssh";
  Write(ssh / "config",
        "Include conf.d/*.conf missing/*.conf\n"
        "Host web\n"
        "  Include " +
            (home.path / "web.inc").string() +
            "\n"
            "  Port 2200\n"
            "Host other\n"
            "  Include ~/other.inc\n");
  // 10-... sorts first: its IdentityFile comes first and its HostName wins.
  Write(ssh / "conf.d/20-late.conf", "Host web\n  HostName late\n  IdentityFile ~/.ssh/late\n");
  Write(ssh / "conf.d/10-early.conf", "Host web\n  HostName early\n  IdentityFile ~/.ssh/early\n");
  Write(ssh / "conf.d/notes.txt", "User never\n");
  // Its lines before any Host apply where it is included; its Match ends with the file, so the
  // includer's Port line after it still applies.
  Write(home.path / "web.inc", "User web-user\nMatch exec false\n  User from-match\n");
  // Included from a block that does not apply: no Host in it applies either.
  Write(home.path / "other.inc", "Host web\n  ProxyJump never\n");

  auto r = ReadSshConfig("~/.ssh/config", "web", home.path.string(), "ann");
  REQUIRE_MESSAGE(r, r.error().message);
  CHECK(r->hostname == "early");
  CHECK(r->identity_files == Files{(ssh / "early").string(), (ssh / "late").string()});
  CHECK(r->user == "web-user");
  CHECK(r->port == 2200);
  CHECK_FALSE(r->proxy_jump);
  CHECK(r->ignored == Files{(home.path / "web.inc").string() + ":2: Match is not supported: its block is skipped"});
}

TEST_CASE("an Include loop ends at OpenSSH's depth of 16, with an error at the Include line") {
  TempDir home;
  Write(home.path / ".ssh/loop", "User x\nInclude loop\n");
  auto r = ReadSshConfig((home.path / ".ssh/loop").string(), "web", home.path.string(), "ann");
  REQUIRE_FALSE(r);
  CHECK(r.error().message ==
        (home.path / ".ssh/loop").string() + ":2: Include nested more than 16 deep (does a file include itself?)");
}

TEST_CASE("a bad Port is an error at its file:line, in any block, as ssh refuses it") {
  CHECK(ParseError("Host web\n  User a\n  Port 70000\n") == "cfg:3: Port '70000' is not a port number (1 to 65535)");
  CHECK(ParseError("Host db\n  Port 0\n") == "cfg:2: Port '0' is not a port number (1 to 65535)");
  CHECK(ParseError("Port ssh\n") == "cfg:1: Port 'ssh' is not a port number (1 to 65535)");
  CHECK(ParseError("Port -1\n") == "cfg:1: Port '-1' is not a port number (1 to 65535)");
  CHECK(Parse("Port 65535\n", "web").port == 65535);
}

TEST_CASE("what ssh refuses is an error naming the place; what it accepts but we cannot follow is a note") {
  CHECK(ParseError("\n\nUser \"deploy\n") == "cfg:3: a quote is not closed");
  CHECK(ParseError("Host web\n  HostName\n") == "cfg:2: no value after hostname");
  CHECK(ParseError("HostName a b\n") == "cfg:1: HostName takes one value (quote one with spaces)");
  CHECK(ParseError("Host web\n  HostName %h:%p\n") ==
        "cfg:2: HostName %h:%p: ssh expands only %h and %% in it, not %p");
  CHECK(ParseError("IdentityFile ~/.ssh/%q\n") == "cfg:1: IdentityFile ~/.ssh/%q: ssh knows no %q");
  auto e = Parse("IdentityFile ~/.ssh/%C\nIdentityFile ~bob/.ssh/id\nIdentityFile ~/.ssh/id\n", "web");
  CHECK(e.identity_files == Files{"/home/ann/.ssh/id"});
  CHECK(e.ignored == Files{"cfg:1: IdentityFile ~/.ssh/%C: %C is not supported: left out",
                           "cfg:2: IdentityFile ~bob/.ssh/id: ~user is not supported: left out"});
}

TEST_CASE("a config file that is not there is an error naming it") {
  TempDir home;
  const std::string path = (home.path / "nope").string();
  auto r = ReadSshConfig(path, "web", home.path.string(), "ann");
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kNotFound);
  CHECK(r.error().message == "ssh config " + path + ": No such file or directory");
}
