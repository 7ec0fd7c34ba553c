// A plan asks each host once: files, an nginx site, a supervisor program and a command's
// check on the lab's SSH host are all read in one command — counted at the shell seam,
// over the real sshd — and each reads back right.
#include <doctest/doctest.h>

#include <atomic>
#include <fstream>

#include "providers/ssh/host_connections.h"
#include "tests/support/lab_env.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_world.h"

using namespace reconcile;

namespace {

// The real shell, counting what crosses it.
class CountingShell : public RemoteShell {
 public:
  CountingShell(std::unique_ptr<RemoteShell> real, std::atomic<int>* runs) : real_(std::move(real)), runs_(runs) {}
  std::string Describe() const override { return real_->Describe(); }
  Result<CommandResult> Run(const std::vector<std::string>& argv, const std::string& input) override {
    ++*runs_;
    return real_->Run(argv, input);
  }
  Status WriteFile(const FileWriteRequest& r) override { return real_->WriteFile(r); }

 private:
  std::unique_ptr<RemoteShell> real_;
  std::atomic<int>* runs_;
};

}  // namespace

TEST_CASE("SplitProbeOutput reads each part's output, exit code and standard error") {
  // "b" and "QkFE" are base64 for nothing and "BAD".
  std::string out = "one\ntwo\n\n@@m 0 \n\n@@m 3 QkFE\nlast\n@@m 0 \n";
  auto parts = SplitProbeOutput(out, "@@m", 3);
  REQUIRE(parts);
  CHECK((*parts)[0].out == "one\ntwo\n");
  CHECK((*parts)[0].exit_code == 0);
  CHECK((*parts)[1].out == "");
  CHECK((*parts)[1].exit_code == 3);
  CHECK((*parts)[1].err == "BAD");
  CHECK((*parts)[2].out == "last");
  auto cut = SplitProbeOutput("one\n@@m 0 \n", "@@m", 2);
  REQUIRE_FALSE(cut);
  CHECK(cut.error().message == "the probe's output ended early, at part 2");
}

TEST_CASE("every file, site, service and check on a host is read in one round trip") {
  auto env = LabEnv();
  TempDir dir;
  { std::ofstream(dir.path.string() + "/b") << "old\n"; }
  std::atomic<int> runs{0};
  auto hosts = std::make_shared<HostConnections>([&](const HostConfig& h) -> std::unique_ptr<RemoteShell> {
    return std::make_unique<CountingShell>(HostConnections::Connect(h), &runs);
  });
  TestWorld w(hosts);
  std::string spec = "version = 1\nname = \"probe\"\n" + LabHostToml(env);
  for (const char* f : {"a", "b", "c"})
    spec += std::string("[file.") + f + "]\nhost = \"lab\"\npath = \"" + dir.path.string() + "/" + f +
            "\"\ncontent = \"new\\n\"\n";
  spec += "[nginx_site.shop]\nhost = \"lab\"\nserver_names = [\"shop.test\"]\nmaintenance = true\nconfig_dir = \"" +
          env.at("NGINX_SITES") + "\"\n";
  spec += "[service.web]\nhost = \"lab\"\nname = \"web\"\nmanager = \"supervisor\"\nsupervisor_config = \"" +
          env.at("SUPERVISOR_CONF") + "\"\nstate = \"running\"\n";
  spec += "[command.ready]\nhost = \"lab\"\ncheck = [\"test\", \"-d\", \"" + dir.path.string() +
          "\"]\napply = [\"true\"]\n";

  LoadResult load = w.Load(spec);
  REQUIRE_MESSAGE(load.spec, TestWorld::Errors(load));
  auto plan = TestWorld::PlanOf(load);
  REQUIRE_MESSAGE(plan, (plan ? std::string() : plan.error().message));
  CHECK(runs == 1);

  std::map<std::string, Action> actions;
  for (const StagePlan& sp : plan->stages)
    for (const Step& s : sp.steps) actions[load.spec->resources[s.resource].address] = s.action;
  CHECK(actions["file.a"] == Action::kCreate);
  CHECK(actions["file.b"] == Action::kUpdate);
  CHECK(actions["file.c"] == Action::kCreate);
  CHECK(actions["nginx_site.shop"] == Action::kCreate);
  CHECK(actions.count("command.ready") == 0);  // its check passed
}
