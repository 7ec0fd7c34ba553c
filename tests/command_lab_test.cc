// The `command` type with real commands, on this machine and on the lab's SSH host: check
// decides, apply makes it so, revert undoes it, argv is never a shell line unless asked.
#include <doctest/doctest.h>

#include <filesystem>

#include "tests/support/lab_env.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_world.h"

using namespace reconcile;
namespace fs = std::filesystem;

namespace {

struct World {
  TestWorld w;
  std::string host_block;

  std::string Apply(const std::string& body, Plan* planned = nullptr) {
    return w.PlanAndApply("version = 1\nname = \"cmd\"\n" + host_block + body, planned);
  }
};

void Story(World& world, const std::string& host, const fs::path& dir) {
  std::string flag = (dir / "flag; not a shell").string();
  std::string cmd = "[command.flag]\nhost = \"" + host + "\"\ncheck = [\"test\", \"-e\", \"" + flag +
                    "\"]\napply = [\"touch\", \"" + flag + "\"]\nrevert = [\"rm\", \"" + flag + "\"]\n";
  Plan plan;
  CHECK(world.Apply(cmd, &plan) == "");
  CHECK(plan.Counts().create == 1);
  CHECK(fs::exists(flag));  // one file, its name with "; " in it: no shell saw it
  CHECK(world.Apply(cmd, &plan) == "");
  CHECK_FALSE(plan.HasChanges());
  CHECK(world.Apply(cmd + "ensure = \"absent\"\n", &plan) == "");
  CHECK(plan.Counts().remove == 1);
  CHECK_FALSE(fs::exists(flag));

  std::string failing =
      "[command.bad]\nhost = \"" + host + "\"\napply = [\"sh\", \"-c\", \"echo broken >&2; exit 7\"]\n";
  CHECK(world.Apply(failing).find("command.bad: `apply` exited 7 on ") == 0);
  CHECK(world.Apply(failing).find(":\nbroken\n") != std::string::npos);

  std::string lying = "[command.liar]\nhost = \"" + host + "\"\ncheck = [\"false\"]\napply = [\"true\"]\n";
  CHECK(world.Apply(lying) == "command.liar: `apply` succeeded but `check` still fails (exit 1)");

  std::string line = "[command.line]\nhost = \"" + host + "\"\nshell = true\ncheck = \"test -e '" +
                     (dir / "a").string() + "' && test -e '" + (dir / "b").string() + "'\"\napply = \"touch '" +
                     (dir / "a").string() + "' '" + (dir / "b").string() + "' | cat\"\n";
  CHECK(world.Apply(line) == "");
  CHECK(fs::exists(dir / "a"));
  CHECK(fs::exists(dir / "b"));
}

}  // namespace

TEST_CASE("command on this machine") {
  TempDir dir;
  World world;
  Story(world, "local", dir.path);
}

TEST_CASE("command on an SSH host") {
  auto env = LabEnv();
  TempDir dir;
  World world;
  world.host_block = LabHostToml(env);
  Story(world, "lab", dir.path);
}

TEST_CASE("a command line as one string needs shell = true") {
  World world;
  LoadResult load =
      world.w.Load("version = 1\nname = \"cmd\"\n[command.x]\nhost = \"local\"\napply = \"touch /tmp/x | cat\"\n");
  CHECK_FALSE(load.spec);
  CHECK(TestWorld::Errors(load).find(
            "spec.toml:5:9: error: 'apply' of command.x is one string, which would need a shell") == 0);
}
