// Valid specs: what the loader makes of them (stages, state path, variables, --var and --env,
// resources in file order) and what Desired() makes of a resource at each stage (overlays,
// references, secrets), with the sensitivity rules that keep secrets out of plans.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "tests/support/test_world.h"

using namespace reconcile;

namespace {

// A directory of its own under the system temp dir, removed with everything in it.
struct TempDir {
  std::filesystem::path path;
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "reconcile-spec-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string Write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name, std::ios::binary) << text;
    return (path / name).string();
  }
};

// Loads `text`, which must load. The result holds the sources the spec's places point into,
// so it is kept whole for as long as the spec is used.
struct Loaded {
  LoadResult result;
  const Spec* operator->() const { return result.spec.get(); }
  const Spec& operator*() const { return *result.spec; }
};

Loaded MustLoad(TestWorld& w, const std::string& text, const LoadOptions& options = {},
                const std::string& path = "spec.toml") {
  LoadResult r = w.Load(text, options, path);
  REQUIRE_MESSAGE(r.spec, TestWorld::Errors(r));
  return Loaded{std::move(r)};
}

// Desired(address, stage name), which must succeed.
State DesiredAt(const Spec& spec, const std::string& address, const std::string& stage, bool resolve_secrets = false) {
  const Resource* r = spec.Find(address);
  REQUIRE_MESSAGE(r, address);
  auto index = spec.FindStage(stage);
  REQUIRE_MESSAGE(index, stage);
  Result<State> s = Desired(spec, *r, *index, resolve_secrets);
  REQUIRE_MESSAGE(s.ok(), (s.ok() ? std::string() : s.error().message));
  return *s;
}

Value Str(const char* s) { return Value(std::string(s)); }
Value List(std::initializer_list<std::string> items) { return Value(StringList(items)); }
Value Int(std::int64_t n) { return Value(n); }

}  // namespace

TEST_CASE("without 'stages' there is one stage, main, and resources enter there") {
  TestWorld w;
  auto spec = MustLoad(w, "version = 1\nname = \"t\"\n[mem_item.a]\nkey = \"a\"\n");
  CHECK(spec->StageNames() == std::vector<std::string>{"main"});
  CHECK(spec->resources.at(0).stage == 0);
  CHECK(DesiredAt(*spec, "mem_item.a", "main").exists);
}

TEST_CASE("stages keep their order, and [stage.S] confirm is attached to its stage") {
  TestWorld w;
  auto spec = MustLoad(w, std::string(kHeader) + "[stage.two]\nconfirm = \"DNS moves\"\n");
  CHECK(spec->StageNames() == std::vector<std::string>{"one", "two", "three"});
  CHECK(spec->stages[0].confirm == "");
  CHECK(spec->stages[1].confirm == "DNS moves");
  CHECK(spec->stages[2].confirm == "");
  CHECK(spec->FindStage("three") == std::optional<std::size_t>(2));
  CHECK_FALSE(spec->FindStage("four"));
}

TEST_CASE("the journal lives beside the spec unless [state] says otherwise") {
  TestWorld w;
  SUBCASE("default: <spec dir>/.reconcile/<name>.journal") {
    auto spec = MustLoad(w, kHeader, {}, "/srv/cutovers/spec.toml");
    CHECK(spec->dir == "/srv/cutovers");
    CHECK(spec->state_path == "/srv/cutovers/.reconcile/t.journal");
  }
  SUBCASE("default, for a spec in the current directory") {
    auto spec = MustLoad(w, kHeader, {}, "spec.toml");
    CHECK(spec->dir == ".");
    CHECK(spec->state_path == ".reconcile/t.journal");
  }
  SUBCASE("a relative path is relative to the spec") {
    auto spec = MustLoad(w, std::string(kHeader) + "[state]\npath = \"../journals/t.journal\"\n", {},
                         "/srv/cutovers/spec.toml");
    CHECK(spec->state_path == "/srv/journals/t.journal");
  }
  SUBCASE("an absolute path is kept") {
    auto spec = MustLoad(w, std::string(kHeader) + "[state]\npath = \"/var/lib/reconcile/t.journal\"\n", {},
                         "/srv/cutovers/spec.toml");
    CHECK(spec->state_path == "/var/lib/reconcile/t.journal");
  }
  SUBCASE("a sealing key is kept as a secret reference") {
    auto spec = MustLoad(w, std::string(kHeader) + "[state]\nkey = \"env:RECONCILE_SPEC_TEST_KEY\"\n");
    REQUIRE(spec->state_key);
    CHECK(spec->state_key->secret);
    CHECK(spec->state_key->value == Str("env:RECONCILE_SPEC_TEST_KEY"));
  }
}

TEST_CASE("${vars.x} is substituted in strings, list items, and into integers and booleans") {
  TestWorld w;
  auto spec = MustLoad(w, std::string(kHeader) + R"([vars]
ip = "198.51.100.20"
n = 60
on = true
[mem_item.a]
key = "a-${vars.ip}"
value = "${vars.ip}:${vars.n}"
tags = ["plain", "ip=${vars.ip}", "${vars.on}"]
size = "${vars.n}"
enabled = "${vars.on}"
wait = "${vars.n}s"
)");
  const Resource& a = spec->resources.at(0);
  CHECK(a.attrs.at("key").value == Str("a-198.51.100.20"));
  CHECK(a.attrs.at("value").value == Str("198.51.100.20:60"));
  CHECK(a.attrs.at("tags").value == List({"plain", "ip=198.51.100.20", "true"}));
  CHECK(a.attrs.at("size").value == Int(60));
  CHECK(a.attrs.at("enabled").value == Value(true));
  CHECK(a.attrs.at("wait").value == Str("60s"));
  CHECK_FALSE(a.has_references);  // variables are gone once loaded
  State s = DesiredAt(*spec, "mem_item.a", "one");
  CHECK(s.attrs.at("size") == Int(60));
  CHECK(s.attrs.at("value") == Str("198.51.100.20:60"));
}

TEST_CASE("a setting written below [vars] is a variable, and loading warns unless the spec sets it above") {
  TestWorld w;
  auto below = MustLoad(w, std::string(kHeader) + "[vars]\nroot = \"/srv\"\non_failure = \"rollback\"\n");
  CHECK(below->on_failure == "stop");
  CHECK(below->vars.count("on_failure") == 1);
  const auto& warned = below.result.diags.warnings();
  REQUIRE(warned.size() == 1);
  CHECK(warned[0].loc.ToString() == "spec.toml:6:1");
  CHECK(warned[0].message ==
        "'on_failure' written below [vars] is a variable, not the spec's setting, and the spec has no on_failure");
  CHECK(below.result.diags.RenderWarnings(*below.result.sources)
            .find("spec.toml:6:1: warning: 'on_failure' written below [vars]") == 0);
  // Set above as well, or a variable by another name, or written as a dotted key: meant.
  auto above = MustLoad(w, std::string(kHeader) + "on_failure = \"stop\"\n[vars]\non_failure = \"rollback\"\n");
  CHECK(above.result.diags.warnings().empty());
  auto other = MustLoad(w, std::string(kHeader) + "[vars]\nfailure_mode = \"rollback\"\n");
  CHECK(other.result.diags.warnings().empty());
  auto dotted = MustLoad(w, std::string(kHeader) + "vars.on_failure = \"rollback\"\n");
  CHECK(dotted.result.diags.warnings().empty());
  // A variable named state is likely one (a region's), and [state] is a table anyway.
  auto state = MustLoad(w, std::string(kHeader) + "[vars]\nstate = \"CA\"\n");
  CHECK(state.result.diags.warnings().empty());
  // Stages as a list below [vars] cannot be a variable: the error says where it belongs.
  LoadResult stages = w.Load("version = 1\nname = \"t\"\n[vars]\nstages = [\"a\", \"b\"]\n");
  CHECK_FALSE(stages.spec);
  CHECK(TestWorld::Errors(stages).find("'stages' is a setting of the whole spec: written below [vars], it is a "
                                       "variable; to set the spec's stages, move it above the first [table]") !=
        std::string::npos);
}

TEST_CASE("variables built from variables, whatever their order; an override (--var) carries through") {
  TestWorld w;
  std::string text = std::string(kHeader) + R"([vars]
dump = "${vars.dir}/${vars.domain}.zip"
dir = "${vars.root}/transfer"
root = "/home/cchq"
domain = "demo"
literal = "$${vars.root}"
[mem_item.a]
key = "a"
value = "${vars.dump}"
tags = ["${vars.literal}"]
)";
  auto spec = MustLoad(w, text);
  CHECK(spec->resources.at(0).attrs.at("value").value == Str("/home/cchq/transfer/demo.zip"));
  CHECK(DesiredAt(*spec, "mem_item.a", "one").attrs.at("tags") == List({"${vars.root}"}));  // $${ stays literal
  LoadOptions options;
  options.vars["root"] = std::string("/tmp/lab");
  auto lab = LoadSpecText("/tmp/spec.toml", text, options, w.registry);
  REQUIRE(lab.spec);
  CHECK(lab.spec->resources.at(0).attrs.at("value").value == Str("/tmp/lab/transfer/demo.zip"));
}

TEST_CASE("a variable in the spec's name, [host] and [provider] tables") {
  TestWorld w;
  auto spec = MustLoad(w, R"(version = 1
name = "cut-${vars.env}"
[vars]
env = "lab"
addr = "10.0.0.7"
[host.web]
address = "${vars.addr}"
port = 2222
[provider.mem.main]
region = "eu-${vars.env}"
[mem_remote.r]
key = "r"
)");
  CHECK(spec->name == "cut-lab");
  CHECK(spec->hosts.at("web").address == "10.0.0.7");
  CHECK(spec->hosts.at("web").port == 2222);
  CHECK(spec->providers.at("mem.main").attrs.at("region").value == Str("eu-lab"));
  // The only [provider.mem.X] is the one a mem_remote uses when it names none.
  CHECK(spec->resources.at(0).provider_instance == "mem.main");
}

TEST_CASE("--var sets a variable, over [vars]") {
  TestWorld w;
  LoadOptions options;
  options.vars = {{"ip", "203.0.113.9"}, {"ttl", "300"}};
  auto spec = MustLoad(w, std::string(kHeader) + R"([vars]
ip = "198.51.100.20"
[mem_item.a]
key = "a"
value = "${vars.ip}"
size = "${vars.ttl}"
)",
                       options);
  const Resource& a = spec->resources.at(0);
  CHECK(a.attrs.at("value").value == Str("203.0.113.9"));
  CHECK(a.attrs.at("size").value == Int(300));
}

TEST_CASE("$${ writes a literal ${, which is neither a variable nor a reference") {
  TestWorld w;
  auto spec = MustLoad(w, std::string(kHeader) + R"([mem_item.a]
key = "a"
value = "echo $${HOME} and $${vars.nope}"
tags = ["$${mem_item.b.value}"]
)");
  const Resource& a = spec->resources.at(0);
  CHECK(a.deps.empty());
  State s = DesiredAt(*spec, "mem_item.a", "one");
  CHECK(s.attrs.at("value") == Str("echo ${HOME} and ${vars.nope}"));
  CHECK(s.attrs.at("tags") == List({"${mem_item.b.value}"}));
}

TEST_CASE("Desired() applies each overlay from its stage on") {
  TestWorld w;
  auto spec = MustLoad(w, std::string(kHeader) + R"([mem_item.a]
key = "a"
value = "v1"
size = 60
[mem_item.a.at.three]
ensure = "absent"
[mem_item.a.at.two]
value = "v2"
tags = ["x"]
[mem_item.late]
stage = "two"
key = "late"
ensure = "present"
[mem_item.late.at.three]
size = 1
)");
  const Resource& a = *spec->Find("mem_item.a");
  REQUIRE(a.overlays.size() == 2);
  CHECK(a.overlays[0].stage == 1);  // in stage order, whatever order they are written in
  CHECK(a.overlays[1].stage == 2);
  CHECK(a.OverlayAt(1) == &a.overlays[0]);
  CHECK(a.OverlayAt(0) == nullptr);

  State one = DesiredAt(*spec, "mem_item.a", "one");
  CHECK(one.exists);
  CHECK(one.attrs == AttrMap{{"key", Str("a")}, {"value", Str("v1")}, {"size", Int(60)}});
  State two = DesiredAt(*spec, "mem_item.a", "two");
  CHECK(two.exists);
  CHECK(two.attrs == AttrMap{{"key", Str("a")}, {"value", Str("v2")}, {"size", Int(60)}, {"tags", List({"x"})}});
  State three = DesiredAt(*spec, "mem_item.a", "three");
  CHECK_FALSE(three.exists);
  CHECK(three.attrs == two.attrs);

  const Resource& late = *spec->Find("mem_item.late");
  CHECK(late.stage == 1);
  CHECK(DesiredAt(*spec, "mem_item.late", "two").attrs == AttrMap{{"key", Str("late")}});
  CHECK(DesiredAt(*spec, "mem_item.late", "three").attrs == AttrMap{{"key", Str("late")}, {"size", Int(1)}});
}

TEST_CASE("references are resolved per stage, and a whole-list reference splices into a list") {
  TestWorld w;
  auto spec = MustLoad(w, std::string(kHeader) + R"([mem_item.b]
key = "b"
value = "x-${mem_item.a.value}"
tags = ["first", "${mem_item.a.tags}", "size=${mem_item.a.size}"]
[mem_item.a]
key = "a"
value = "v1"
size = 5
tags = ["t1", "t2"]
[mem_item.a.at.three]
value = "v3"
tags = ["t3"]
)");
  const Resource& b = *spec->Find("mem_item.b");
  CHECK(b.has_references);
  REQUIRE(b.deps.size() == 3);
  for (const Dependency& d : b.deps) {
    CHECK(d.kind == Dependency::Kind::kReference);
    CHECK(spec->resources[d.on].address == "mem_item.a");
  }
  CHECK(b.attrs.at("value").value == Str("x-${mem_item.a.value}"));  // kept until the stage is known

  State one = DesiredAt(*spec, "mem_item.b", "one");
  CHECK(one.attrs.at("value") == Str("x-v1"));
  CHECK(one.attrs.at("tags") == List({"first", "t1", "t2", "size=5"}));
  State two = DesiredAt(*spec, "mem_item.b", "two");
  CHECK(two.attrs.at("value") == Str("x-v1"));
  State three = DesiredAt(*spec, "mem_item.b", "three");
  CHECK(three.attrs.at("value") == Str("x-v3"));
  CHECK(three.attrs.at("tags") == List({"first", "t3", "size=5"}));
}

TEST_CASE("a whole-value reference to an integer, into a string attribute, becomes its text") {
  TestWorld w;
  auto spec = MustLoad(w, std::string(kHeader) + R"([mem_item.a]
key = "a"
size = 42
[mem_item.b]
key = "b"
value = "${mem_item.a.size}"
)");
  CHECK(DesiredAt(*spec, "mem_item.b", "one").attrs.at("value") == Str("42"));
}

TEST_CASE("a reference to a resource not there yet, or to an unset attribute, fails at Desired()") {
  TestWorld w;
  auto spec = MustLoad(w, std::string(kHeader) + R"([mem_item.b]
key = "b"
value = "${mem_item.a.value}"
[mem_item.a]
stage = "two"
key = "a"
value = "v"
[mem_item.c]
key = "c"
[mem_item.d]
key = "d"
value = "${mem_item.c.value}"
)");
  Result<State> early = Desired(*spec, *spec->Find("mem_item.b"), 0, false);
  REQUIRE_FALSE(early.ok());
  CHECK(early.error().message == "spec.toml:6:9: mem_item.b refers to mem_item.a, which enters only at stage 'two'");
  CHECK(DesiredAt(*spec, "mem_item.b", "two").attrs.at("value") == Str("v"));
  Result<State> unset = Desired(*spec, *spec->Find("mem_item.d"), 0, false);
  REQUIRE_FALSE(unset.ok());
  CHECK(unset.error().message ==
        "spec.toml:15:9: mem_item.d refers to mem_item.c.value, which has no value at stage 'one'");
}

TEST_CASE("secrets are kept as references until Desired() is asked to read them") {
  TempDir dir;
  dir.Write("token.txt", "s3cr3t-from-file\n");
  std::string text = std::string(kHeader) + R"([mem_item.a]
key = "a"
secret = "env:RECONCILE_SPEC_TEST_SECRET"
[mem_item.f]
key = "f"
secret = "file:token.txt"
[mem_item.missing]
key = "m"
secret = "env:RECONCILE_SPEC_TEST_UNSET"
)";
  TestWorld w;
  auto spec = MustLoad(w, text, {}, (dir.path / "spec.toml").string());
  setenv("RECONCILE_SPEC_TEST_SECRET", "hunter2", 1);
  unsetenv("RECONCILE_SPEC_TEST_UNSET");

  const SpecValue& sv = spec->Find("mem_item.a")->attrs.at("secret");
  CHECK(sv.secret);
  CHECK(sv.value == Str("env:RECONCILE_SPEC_TEST_SECRET"));  // the loader does not read it

  CHECK(DesiredAt(*spec, "mem_item.a", "one", false).attrs.at("secret") == Str("env:RECONCILE_SPEC_TEST_SECRET"));
  CHECK(DesiredAt(*spec, "mem_item.a", "one", true).attrs.at("secret") == Str("hunter2"));
  CHECK(DesiredAt(*spec, "mem_item.f", "one", false).attrs.at("secret") == Str("file:token.txt"));
  // Relative to the spec's folder, with the trailing newline dropped.
  CHECK(DesiredAt(*spec, "mem_item.f", "one", true).attrs.at("secret") == Str("s3cr3t-from-file"));

  // Not read, not needed: the unset variable is no error until it is read.
  CHECK(DesiredAt(*spec, "mem_item.missing", "one", false).attrs.at("secret") == Str("env:RECONCILE_SPEC_TEST_UNSET"));
  Result<State> missing = Desired(*spec, *spec->Find("mem_item.missing"), 0, true);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message == (dir.path / "spec.toml").string() +
                                       ":12:10: attribute 'secret' of mem_item.missing: the environment "
                                       "variable RECONCILE_SPEC_TEST_UNSET is not set (export it, or use file:PATH)");
  unsetenv("RECONCILE_SPEC_TEST_SECRET");
}

TEST_CASE("a secret file that cannot be read is named in the error") {
  TestWorld w;
  auto spec = MustLoad(w, std::string(kHeader) + "[mem_item.a]\nkey = \"a\"\nsecret = \"file:nope.txt\"\n", {},
                       "/nonexistent-reconcile-dir/spec.toml");
  Result<State> s = Desired(*spec, spec->resources.at(0), 0, true);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message ==
        "/nonexistent-reconcile-dir/spec.toml:6:10: attribute 'secret' of mem_item.a: the secret file "
        "/nonexistent-reconcile-dir/nope.txt cannot be read: No such file or directory");
}

TEST_CASE("a provider instance's secrets are read by ResolveProvider") {
  TestWorld w;
  auto spec = MustLoad(w, std::string(kHeader) + R"([provider.mem.main]
region = "eu"
token = "env:RECONCILE_SPEC_TEST_TOKEN"
)");
  const ProviderInstance& p = spec->providers.at("mem.main");
  CHECK(p.attrs.at("token").secret);
  setenv("RECONCILE_SPEC_TEST_TOKEN", "tok", 1);
  Result<ProviderConfig> c = ResolveProvider(*spec, p);
  REQUIRE(c.ok());
  CHECK(c->name == "mem.main");
  CHECK(c->kind == "mem");
  CHECK(c->attrs.at("token") == Str("tok"));
  CHECK(c->attrs.at("region") == Str("eu"));
  unsetenv("RECONCILE_SPEC_TEST_TOKEN");
}

TEST_CASE("a file's source is read, relative to the spec, as its content") {
  TempDir dir;
  dir.Write("motd.txt", "hello\n");
  TestWorld w;
  auto spec = MustLoad(w, std::string(kHeader) + R"([file.motd]
host = "local"
path = "/tmp/reconcile-motd"
source = "motd.txt"
mode = "0644"
)",
                       {}, (dir.path / "spec.toml").string());
  State unread = DesiredAt(*spec, "file.motd", "one", false);
  CHECK(unread.attrs.at("source") == Str("motd.txt"));
  State read = DesiredAt(*spec, "file.motd", "one", true);
  CHECK(read.attrs ==
        AttrMap{{"path", Str("/tmp/reconcile-motd")}, {"content", Str("hello\n")}, {"mode", Str("0644")}});
}

TEST_CASE("file: secrets: a file's content keeps every byte; a password loses one trailing newline") {
  TempDir dir;
  dir.Write("motd.txt", "hello\n\n");
  dir.Write("pw", "hunter2\n");
  dir.Write("pw-crlf", "hunter2\r\n");
  dir.Write("pw-two", "hunter2\n\n");
  TestWorld w;
  auto spec = MustLoad(w, std::string(kHeader) + R"([file.motd]
host = "local"
path = "/tmp/reconcile-motd"
content = "file:motd.txt"
[command.c]
host = "local"
apply = ["true"]
env = { PW = "file:pw", PLAIN = "as written\n" }
)",
                       {}, (dir.path / "spec.toml").string());
  CHECK(DesiredAt(*spec, "file.motd", "one", true).attrs.at("content") == Str("hello\n\n"));  // as source = keeps it
  CHECK(DesiredAt(*spec, "command.c", "one", true).attrs.at("env") == List({"PLAIN=as written\n", "PW=hunter2"}));
  CHECK(DesiredAt(*spec, "command.c", "one", false).attrs.at("env") == List({"PLAIN=as written\n", "PW=file:pw"}));
  CHECK(ResolveSecret("file:pw-crlf", dir.path.string()).value() == "hunter2");
  CHECK(ResolveSecret("file:pw-two", dir.path.string()).value() == "hunter2\n");  // only the last one goes
  CHECK(ResolveSecret("file:pw-two", dir.path.string(), true).value() == "hunter2\n\n");
  // Only the secret entry of the table is hidden; the table as a whole is sensitive (journal).
  const Resource& c = *spec->Find("command.c");
  CHECK(IsSensitive(*spec, c, "env"));
  CHECK(SensitiveEntries(*spec, c, "env") == std::set<std::string>{"PW"});
}

TEST_CASE("IsSensitive: declared sensitive, written as a secret, or built from a sensitive value") {
  TestWorld w;
  auto spec = MustLoad(w, std::string(kHeader) + R"([mem_item.a]
key = "a"
secret = "plain text, but the attribute is sensitive"
value = "not sensitive"
[file.f]
host = "local"
path = "/tmp/f"
content = "env:RECONCILE_SPEC_TEST_CONTENT"
[file.g]
host = "local"
path = "/tmp/g"
content = "clear"
[file.g.at.two]
content = "file:later.txt"
[mem_item.b]
key = "b"
value = "token=${mem_item.a.secret}"
tags = ["${mem_item.a.value}"]
[mem_item.c]
key = "c"
value = "${mem_item.b.value}"
tags = ["x", "${file.f.content}"]
)");
  const Resource& a = *spec->Find("mem_item.a");
  const Resource& b = *spec->Find("mem_item.b");
  const Resource& c = *spec->Find("mem_item.c");
  CHECK(IsSensitive(*spec, a, "secret"));  // by schema
  CHECK_FALSE(IsSensitive(*spec, a, "value"));
  CHECK_FALSE(IsSensitive(*spec, a, "key"));
  CHECK(IsSensitive(*spec, *spec->Find("file.f"), "content"));  // written as a secret
  CHECK(IsSensitive(*spec, *spec->Find("file.g"), "content"));  // a secret from stage two on
  CHECK_FALSE(IsSensitive(*spec, *spec->Find("file.g"), "path"));
  CHECK(IsSensitive(*spec, b, "value"));  // refers to a sensitive attribute
  CHECK_FALSE(IsSensitive(*spec, b, "tags"));
  CHECK(IsSensitive(*spec, c, "value"));  // through b.value
  CHECK(IsSensitive(*spec, c, "tags"));   // a list item referring to a secret
}

TEST_CASE("resources come back in the order the spec writes them, whatever their type") {
  TestWorld w;
  auto spec = MustLoad(w, std::string(kHeader) + R"([mem_item.zeta]
key = "z"
[file.beta]
host = "local"
path = "/tmp/beta"
[check.up]
kind = "tcp"
address = "127.0.0.1"
port = 22
[mem_item.alpha]
key = "a"
[file.alpha]
host = "local"
path = "/tmp/alpha"
)");
  std::vector<std::string> addresses;
  for (const Resource& r : spec->resources) addresses.push_back(r.address);
  CHECK(addresses ==
        std::vector<std::string>{"mem_item.zeta", "file.beta", "check.up", "mem_item.alpha", "file.alpha"});
  for (std::size_t i = 0; i < spec->resources.size(); ++i) CHECK(spec->Index(spec->resources[i].address) == i);
  CHECK(spec->Find("check.up")->is_check());
  CHECK_FALSE(spec->Find("file.beta")->is_check());
  CHECK(spec->Find("mem_item.zeta")->loc.ToString() == "spec.toml:4:11");
}

TEST_CASE("after lists and references both become dependencies, with their places") {
  TestWorld w;
  auto spec = MustLoad(w, std::string(kHeader) + R"([mem_item.a]
key = "a"
[mem_item.b]
key = "b"
after = ["mem_item.a"]
)");
  const Resource& b = *spec->Find("mem_item.b");
  REQUIRE(b.deps.size() == 1);
  CHECK(b.deps[0].on == 0);
  CHECK(b.deps[0].kind == Dependency::Kind::kAfter);
  CHECK(b.deps[0].loc.ToString() == "spec.toml:8:10");
}

TEST_CASE("--env lab merges cutover.lab.toml over cutover.toml") {
  TempDir dir;
  std::string spec_path = dir.Write("cutover.toml", R"(version = 1
name = "cutover"
stages = ["prepare", "switch"]
[vars]
ip = "198.51.100.20"
[host.web]
address = "web.example.edu"
user = "deploy"
[mem_item.dns]
key = "dns"
value = "${vars.ip}"
size = 3600
[mem_item.dns.at.switch]
size = 60
)");
  std::string lab_path = dir.Write("cutover.lab.toml", R"([vars]
ip = "127.0.0.1"
[host.web]
address = "127.0.0.2"
[mem_item.dns]
tags = ["lab"]
[mem_item.dns.at.switch]
size = 5
)");
  TestWorld w;

  LoadResult prod = LoadSpec(spec_path, {}, w.registry);
  REQUIRE_MESSAGE(prod.spec, TestWorld::Errors(prod));
  CHECK(prod.spec->hosts.at("web").address == "web.example.edu");
  CHECK(DesiredAt(*prod.spec, "mem_item.dns", "switch").attrs ==
        AttrMap{{"key", Str("dns")}, {"value", Str("198.51.100.20")}, {"size", Int(60)}});

  LoadOptions lab_options;
  lab_options.env = "lab";
  LoadResult lab = LoadSpec(spec_path, lab_options, w.registry);
  REQUIRE_MESSAGE(lab.spec, TestWorld::Errors(lab));
  const Spec& s = *lab.spec;
  CHECK(s.options.env == "lab");
  CHECK(s.name == "cutover");
  CHECK(s.hosts.at("web").address == "127.0.0.2");
  CHECK(s.hosts.at("web").user == "deploy");  // tables merge key by key
  CHECK(DesiredAt(s, "mem_item.dns", "prepare").attrs ==
        AttrMap{{"key", Str("dns")}, {"value", Str("127.0.0.1")}, {"size", Int(3600)}, {"tags", List({"lab"})}});
  CHECK(DesiredAt(s, "mem_item.dns", "switch").attrs.at("size") == Int(5));
  // Each value keeps the file it was written in.
  const Resource& dns = *s.Find("mem_item.dns");
  CHECK(dns.attrs.at("size").loc.ToString() == spec_path + ":12:8");
  CHECK(dns.attrs.at("tags").loc.ToString() == lab_path + ":6:8");

  CHECK(lab.spec->sha256 != prod.spec->sha256);
  CHECK(LoadSpec(spec_path, lab_options, w.registry).spec->sha256 == lab.spec->sha256);
}

TEST_CASE("an error in the --env overlay names the overlay file") {
  TempDir dir;
  std::string spec_path = dir.Write("cutover.toml", std::string(kHeader) + "[mem_item.a]\nkey = \"a\"\n");
  std::string lab_path = dir.Write("cutover.lab.toml", "[mem_item.a]\nvaleu = \"x\"\n");
  TestWorld w;
  LoadOptions options;
  options.env = "lab";
  LoadResult r = LoadSpec(spec_path, options, w.registry);
  CHECK(r.spec == nullptr);
  CHECK(TestWorld::Errors(r) == lab_path +
                                    ":2:1: error: unknown attribute 'valeu' in mem_item.a, did you mean 'value'?\n"
                                    " 2 | valeu = \"x\"\n"
                                    "   | ^\n");

  SUBCASE("a TOML syntax error in the overlay") {
    dir.Write("cutover.lab.toml", "[mem_item.a\n");
    LoadResult bad = LoadSpec(spec_path, options, w.registry);
    CHECK(bad.spec == nullptr);
    REQUIRE(bad.diags.size() == 1);
    CHECK(bad.diags.items()[0].loc.ToString().rfind(lab_path + ":1:", 0) == 0);
  }
}

TEST_CASE("Spec::sha256 follows the text, every --var and the overlay") {
  TestWorld w;
  std::string text = std::string(kHeader) + "[vars]\nv = \"1\"\n[mem_item.a]\nkey = \"${vars.v}\"\n";
  std::string base = MustLoad(w, text)->sha256;
  CHECK(base.size() == 64);
  CHECK(MustLoad(w, text)->sha256 == base);
  CHECK(MustLoad(w, text + "\n")->sha256 != base);

  LoadOptions one;
  one.vars = {{"v", "2"}};
  std::string with_var = MustLoad(w, text, one)->sha256;
  CHECK(with_var != base);
  LoadOptions other;
  other.vars = {{"v", "3"}};
  CHECK(MustLoad(w, text, other)->sha256 != with_var);
  CHECK(MustLoad(w, text, one)->sha256 == with_var);

  TempDir dir;
  std::string path = dir.Write("c.toml", text);
  dir.Write("c.lab.toml", "[vars]\nv = \"4\"\n");
  LoadResult plain = LoadSpec(path, {}, w.registry);
  REQUIRE(plain.spec);
  CHECK(plain.spec->sha256 == base);  // the hash is of the text, not of where it is
  LoadOptions lab;
  lab.env = "lab";
  LoadResult overlaid = LoadSpec(path, lab, w.registry);
  REQUIRE(overlaid.spec);
  CHECK(overlaid.spec->sha256 != base);
  dir.Write("c.lab.toml", "[vars]\nv = \"5\"\n");
  LoadResult changed = LoadSpec(path, lab, w.registry);
  REQUIRE(changed.spec);
  CHECK(changed.spec->sha256 != overlaid.spec->sha256);
}

TEST_CASE("an attribute's default_value is taken as if written, only by resources of its variant") {
  TestWorld w;
  auto spec = MustLoad(w, std::string(kHeader) + R"(
[check.web]
kind = "http"
url = "https://shop.example/health"
[check.name]
kind = "dns"
name = "www.example.test."
values = ["192.0.2.1"]
servers = ["127.0.0.1:53"]
type = "AAAA"
[check.port]
kind = "tcp"
address = "127.0.0.1"
port = 1
[nginx_site.shop]
host = "local"
server_names = ["shop.example"]
)");
  auto at = [&](const char* address) {
    auto d = Desired(*spec, *spec->Find(address), 0, false);
    REQUIRE(d);
    return d->attrs;
  };
  AttrMap web = at("check.web");
  CHECK(web.at("expect_status") == Value(std::int64_t{200}));
  CHECK(web.at("timeout") == Value(std::string("5m")));
  CHECK_FALSE(web.count("type"));  // a dns check's
  AttrMap name = at("check.name");
  CHECK(name.at("type") == Value(std::string("AAAA")));  // as written
  CHECK(name.at("ns_port") == Value(std::int64_t{53}));
  AttrMap port = at("check.port");
  CHECK_FALSE(port.count("expect_status"));
  CHECK_FALSE(port.count("min_days_valid"));
  AttrMap site = at("nginx_site.shop");
  CHECK(site.at("config_dir") == Value(std::string("/etc/nginx/conf.d")));
  CHECK(site.at("nginx") == Value(StringList{"nginx"}));  // a list's items, space-separated
  CHECK_FALSE(site.count("listen"));                      // its default depends on TLS: the provider's to say
}

TEST_CASE("a provider instance's keys it leaves out are handed on at their defaults") {
  TestWorld w;
  auto spec = MustLoad(w, std::string(kHeader) + R"([provider.postgres.main]
host = "db.internal"
port = 6432
)");
  Result<ProviderConfig> c = ResolveProvider(*spec, spec->providers.at("postgres.main"));
  REQUIRE(c.ok());
  CHECK(c->attrs.at("host") == Str("db.internal"));
  CHECK(c->attrs.at("port") == Value(std::int64_t{6432}));
  CHECK(c->attrs.at("user") == Str("postgres"));
  CHECK(c->attrs.at("database") == Str("postgres"));
  CHECK(c->attrs.at("sslmode") == Str("prefer"));
  CHECK_FALSE(c->attrs.count("password"));  // no default
}

TEST_CASE("an instance a provider instance names is handed to its resources' targets") {
  TestWorld w;
  for (const char* relay : {"hub", "mem.hub"}) {
    LoadResult load = w.Load(std::string(kHeader) + "[provider.mem.edge]\nregion = \"eu\"\nrelay = \"" + relay +
                             "\"\n[provider.mem.hub]\nregion = \"us\"\ntoken = \"t0k\"\n"
                             "[mem_remote.r]\nprovider = \"mem.edge\"\nkey = \"r\"\n");
    REQUIRE_MESSAGE(load.spec, TestWorld::Errors(load));
    std::map<std::string, ProviderConfig> configs;
    auto t = TargetFor(*load.spec, load.spec->resources[0], State{true, {{"key", std::string("r")}}}, &configs);
    REQUIRE(t);
    REQUIRE(t->provider);
    CHECK(t->provider->name == "mem.edge");
    REQUIRE(t->providers.count("mem.hub"));
    CHECK(t->providers.at("mem.hub")->attrs.at("token") == Str("t0k"));
    CHECK(t->providers.size() == 1);
  }
}

TEST_CASE("DefaultValue reads default_value as a value of the attribute's type") {
  CHECK(DefaultValue({.name = "n", .type = AttrType::kInt, .default_value = "30"}) == Value(std::int64_t{30}));
  CHECK(DefaultValue({.name = "b", .type = AttrType::kBool, .default_value = "false"}) == Value(false));
  CHECK(DefaultValue({.name = "d", .type = AttrType::kDuration, .default_value = "5m"}) == Value(std::string("5m")));
  CHECK(DefaultValue({.name = "l", .type = AttrType::kArgv, .default_value = "sv -w 7"}) ==
        Value(StringList{"sv", "-w", "7"}));
  CHECK(IsNull(DefaultValue({.name = "none", .type = AttrType::kString})));
  CHECK(IsNull(DefaultValue({.name = "bad", .type = AttrType::kInt, .default_value = "3x"})));
}

TEST_CASE("every default a provider declares is a value its own attribute accepts") {
  TestWorld w;
  std::vector<std::pair<std::string, const AttrSchema*>> defaults;
  for (const std::string& name : w.registry.TypeNames())
    for (const AttrSchema& a : w.registry.FindType(name)->attrs) defaults.push_back({name + "." + a.name, &a});
  for (const std::string& kind : w.registry.KindNames())
    for (const AttrSchema& a : w.registry.FindKind(kind)->attrs)
      defaults.push_back({"provider." + kind + "." + a.name, &a});
  for (const AttrSchema& a : w.registry.HostSettings()) defaults.push_back({"host." + a.name, &a});
  int checked = 0;
  for (const auto& [where, a] : defaults) {
    if (a->default_value.empty()) continue;
    ++checked;
    Value v = DefaultValue(*a);
    CHECK_MESSAGE(!IsNull(v), where << ": default \"" << a->default_value << "\" is not " << AttrTypeName(a->type));
    const std::string* s = AsString(v);
    if (s && !a->one_of.empty())
      CHECK_MESSAGE(std::find(a->one_of.begin(), a->one_of.end(), *s) != a->one_of.end(), where << ": not one_of");
    // The check reads what a spec would write: a string, an integer's decimal text, each item of a list.
    if (a->check) {
      StringList items = std::holds_alternative<StringList>(v) ? std::get<StringList>(v) : StringList{a->default_value};
      for (const std::string& item : items)
        CHECK_MESSAGE(a->check(item, {}) == "", where << ": refused by its own check");
    }
  }
  CHECK(checked > 10);  // the loop saw the defaults there are
}

TEST_CASE("a scoped list: its provider is handed every item the resource names at any stage") {
  TestWorld w;
  LoadResult load = w.Load(std::string(kHeader) + R"(
[mem_item.rule]
key = "rule"
owned = ["10.0.0.0/8", "192.0.2.1/32"]
[mem_item.rule.at.two]
owned = ["0.0.0.0/0"]
[mem_item.rule.at.three]
owned = ["10.0.0.0/8"]
)");
  REQUIRE_MESSAGE(load.spec, TestWorld::Errors(load));
  const Resource& r = load.spec->resources[0];
  REQUIRE(r.address == "mem_item.rule");
  std::map<std::string, ProviderConfig> configs;
  auto t = TargetFor(*load.spec, r, State{true, {{"key", std::string("rule")}}}, &configs);
  REQUIRE(t);
  // At every stage the same, so probe, apply and rollback read the same items.
  CHECK(t->named.at("owned") == std::vector<std::string>{"0.0.0.0/0", "10.0.0.0/8", "192.0.2.1/32"});
  CHECK(t->named.count("tags") == 0);

  // A reference is known only at its stage: refused, where it is written.
  LoadResult refers = w.Load(std::string(kHeader) + R"(
[mem_item.rule]
key = "rule"
owned = ["10.0.0.0/8"]
[mem_item.rule.at.two]
owned = ["${mem_item.other.value}"]
[mem_item.other]
key = "other"
value = "198.51.100.0/24"
)");
  REQUIRE_MESSAGE(refers.spec, TestWorld::Errors(refers));
  auto refused = TargetFor(*refers.spec, refers.spec->resources[0], State{true, {}}, &configs);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("spec.toml:9:") == 0);
  CHECK(refused.error().message.find("mem_item.rule's owned holds a reference") != std::string::npos);
}
