// service under the lab's real supervisord: stopped (the process really gone from the
// process table, the port refused), started again, read back in one batch; a program
// supervisor does not know is named plainly.
#include <doctest/doctest.h>

#include <cstdio>

#include "providers/service/service_provider.h"
#include "tests/support/http_get.h"
#include "tests/support/lab_env.h"
#include "tests/support/test_world.h"

using namespace reconcile;

namespace {

bool WebProcessExists() {
  FILE* p = ::popen("pgrep -f 'python3 -m http[.]server 18090'", "r");
  char buf[64];
  bool found = std::fgets(buf, sizeof buf, p) != nullptr;
  ::pclose(p);
  return found;
}

struct Lab {
  std::map<std::string, std::string> env = LabEnv();
  TestWorld w;

  std::string Apply(const std::string& body, Plan* planned = nullptr) {
    return w.PlanAndApply("version = 1\nname = \"svc\"\n" + body, planned);
  }

  std::string Web(const std::string& state) {
    return "[service.web]\nhost = \"local\"\nname = \"web\"\nmanager = \"supervisor\"\nsupervisor_config = \"" +
           env.at("SUPERVISOR_CONF") + "\"\nstate = \"" + state + "\"\n";
  }
};

}  // namespace

TEST_CASE("supervisorctl status output parses") {
  auto st = ParseSupervisorStatus(
      "web                              RUNNING   pid 4242, uptime 0:01:02\n"
      "worker                           STOPPED   Nov 22 11:02 PM\n"
      "nope: ERROR (no such process)\n");
  CHECK(st["web"].state == "RUNNING");
  CHECK(st["web"].pid == 4242);
  CHECK(st["worker"].state == "STOPPED");
  CHECK(st["nope"].error == "ERROR (no such process)");
}

TEST_CASE("stop waits until the process is gone; start brings it back; both converge") {
  Lab lab;
  // supervisord may still be starting the program when the lab comes up.
  for (int i = 0; i < 100 && HttpGet(18090, "x").status == 0; ++i) usleep(50000);
  REQUIRE(HttpGet(18090, "x").status == 200);

  CHECK(lab.Apply(lab.Web("stopped")) == "");
  CHECK_FALSE(WebProcessExists());  // checked right after the step: no waiting here
  CHECK(HttpGet(18090, "x").status == 0);
  Plan again;
  CHECK(lab.Apply(lab.Web("stopped"), &again) == "");
  CHECK_FALSE(again.HasChanges());

  CHECK(lab.Apply(lab.Web("running")) == "");
  CHECK(WebProcessExists());
  for (int i = 0; i < 100 && HttpGet(18090, "x").status == 0; ++i) usleep(50000);
  CHECK(HttpGet(18090, "x").status == 200);
  CHECK(lab.Apply(lab.Web("running"), &again) == "");
  CHECK_FALSE(again.HasChanges());
}

TEST_CASE("a program supervisor does not know is an error naming it") {
  Lab lab;
  std::string spec = lab.Web("running");
  spec.replace(spec.find("name = \"web\""), 12, "name = \"wbe\"");
  std::string error = lab.Apply(spec);
  CHECK(error.find("service.web: supervisor on local has no program 'wbe'") != std::string::npos);
}
