// The `file` type on the local machine, against real files in a temporary folder.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "providers/file/file_provider.h"
#include "providers/ssh/host_connections.h"
#include "tests/support/test_world.h"

#include "tests/support/temp_dir.h"

using namespace reconcile;
namespace fs = std::filesystem;

namespace {

void Write(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary) << text; }

HostConfig Local() {
  HostConfig h;
  h.name = "local";
  h.local = true;
  return h;
}

Result<State> ProbeOne(FileProvider& p, const Target& t) {
  std::vector<const Target*> batch = {&t};
  std::vector<Result<State>> out;
  p.Probe(batch, &out);
  REQUIRE(out.size() == 1);
  return out[0];
}

}  // namespace

TEST_CASE("probe, create, change mode only, rewrite, delete: the real file follows") {
  TempDir dir;
  FileProvider provider{std::make_shared<HostConnections>()};
  HostConfig local = Local();
  TypeSchema schema = provider.Types()[0];
  std::string path = (dir.path / "motd").string();
  Target t{"file.motd", &schema, {{"path", path}, {"content", "hello\n"}, {"mode", "0640"}}, &local};

  auto absent = ProbeOne(provider, t);
  REQUIRE(absent);
  CHECK_FALSE(absent->exists);

  auto created = provider.Apply(Change{Action::kCreate, t, *absent, {}});
  REQUIRE_MESSAGE(created, (created.ok() ? std::string() : created.error().message));
  CHECK(ReadText(path) == "hello\n");
  struct stat st;
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0640);
  CHECK(created->attrs.at("mode") == Value("0640"));

  auto probed = ProbeOne(provider, t);
  REQUIRE(probed);
  CHECK(probed->exists);
  CHECK(probed->attrs.at("content") == Value("hello\n"));
  CHECK(probed->attrs.at("path") == Value(path));
  if (::getuid() == 0) CHECK(probed->attrs.at("owner") == Value("root"));

  // A mode-only change leaves the file itself in place (same inode, content untouched).
  ino_t inode = st.st_ino;
  Target mode_only{"file.motd", &schema, {{"path", path}, {"mode", "0600"}}, &local};
  REQUIRE(provider.Apply(Change{Action::kUpdate, mode_only, *probed, {"mode"}}));
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(st.st_ino == inode);
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(ReadText(path) == "hello\n");

  // A content change is written beside and renamed over: a new inode, no temp file left.
  Target rewrite{"file.motd", &schema, {{"path", path}, {"content", "moved\n"}}, &local};
  REQUIRE(provider.Apply(Change{Action::kUpdate, rewrite, *probed, {"content"}}));
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK(st.st_ino != inode);
  CHECK((st.st_mode & 07777) == 0600);  // kept: the spec did not say
  CHECK(ReadText(path) == "moved\n");
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);

  REQUIRE(provider.Apply(Change{Action::kDelete, rewrite, *probed, {}}));
  CHECK_FALSE(fs::exists(path));
}

TEST_CASE("the file provider refuses what it must not touch, saying why") {
  TempDir dir;
  FileProvider provider{std::make_shared<HostConnections>()};
  HostConfig local = Local();
  TypeSchema schema = provider.Types()[0];

  fs::create_directory(dir.path / "sub");
  Target on_dir{"file.d", &schema, {{"path", (dir.path / "sub").string()}, {"content", "x"}}, &local};
  auto probed = ProbeOne(provider, on_dir);
  REQUIRE_FALSE(probed);
  CHECK(probed.error().message ==
        (dir.path / "sub").string() + " exists and is not a regular file; reconcile will not replace it");

  Target no_parent{"file.n", &schema, {{"path", (dir.path / "missing" / "f").string()}, {"content", "x"}}, &local};
  auto r = provider.Apply(Change{Action::kCreate, no_parent, State{}, {}});
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "the folder " + (dir.path / "missing").string() +
                                 " does not exist; create it first (or add a resource that does)");

  HostConfig remote;
  remote.name = "web";
  remote.address = "127.0.0.1";
  remote.port = 1;  // nothing listens there
  Target far{"file.far", &schema, {{"path", "/etc/motd"}}, &remote};
  auto f = ProbeOne(provider, far);
  REQUIRE_FALSE(f);
  CHECK(f.error().message == "host web (127.0.0.1:1): cannot connect to 127.0.0.1:1: Connection refused");
}

TEST_CASE("plan against real files: source files, modes, and a converged spec") {
  TempDir dir;
  Write(dir.path / "motd.txt", "from a source file\n");
  Write(dir.path / "stale", "old\n");
  ::chmod((dir.path / "stale").c_str(), 0644);
  std::string spec = std::string(kHeader) + "[file.motd]\nhost = \"local\"\npath = \"" + (dir.path / "motd").string() +
                     "\"\nsource = \"motd.txt\"\n" + "[file.stale]\nhost = \"local\"\npath = \"" +
                     (dir.path / "stale").string() +
                     "\"\nmode = \"0600\"\n[file.stale.at.three]\nensure = \"absent\"\n";
  TestWorld w;
  LoadResult load = w.Load(spec, {}, (dir.path / "cutover.toml").string());
  REQUIRE_MESSAGE(load.spec, TestWorld::Errors(load));
  auto plan = TestWorld::PlanOf(load);
  REQUIRE_MESSAGE(plan, (plan ? std::string() : plan.error().message));
  REQUIRE(plan->stages[0].steps.size() == 2);
  const Step& motd = plan->stages[0].steps[0];
  CHECK(motd.action == Action::kCreate);
  CHECK(motd.desired.attrs.at("content") == Value("from a source file\n"));
  const Step& stale = plan->stages[0].steps[1];
  CHECK(stale.action == Action::kUpdate);
  REQUIRE(stale.changes.size() == 1);
  CHECK(stale.changes[0].old_value == Value("0644"));
  CHECK(stale.changes[0].new_value == Value("0600"));
  CHECK(plan->stages[2].steps.at(0).action == Action::kDelete);

  // Apply stage one for real, then the same spec plans stage one to nothing.
  for (const Step& step : plan->stages[0].steps) {
    const Resource& r = load.spec->resources[step.resource];
    Change c{step.action, Target{r.address, r.schema, step.desired.attrs, HostFor(*load.spec, r)}, step.prior, {}};
    REQUIRE(r.provider->Apply(c));
  }
  CHECK(ReadText(dir.path / "motd") == "from a source file\n");
  auto again = TestWorld::PlanOf(load);
  REQUIRE(again);
  CHECK(again->stages[0].steps.empty());
  CHECK(again->stages[1].steps.empty());
  CHECK(again->stages[2].steps.size() == 1);
}
