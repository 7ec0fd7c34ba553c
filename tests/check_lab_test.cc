// Checks against the lab's real servers: HTTP status and body from nginx and the supervised
// web server, TCP ports open and closed, a command's exit status, and the executor polling a
// check until its timeout with progress.
#include <doctest/doctest.h>

#include "engine/exec/executor.h"
#include "providers/check/check_provider.h"
#include "tests/support/lab_env.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_world.h"

using namespace reconcile;

namespace {

Result<CheckResult> Run(AttrMap attrs) {
  CheckProvider p;
  TypeSchema schema = p.Types()[0];
  return p.Check(Target{"check.t", &schema, std::move(attrs), nullptr, nullptr});
}

struct Waits : Progress {
  std::vector<std::string> seen;
  void StageStarted(const std::string&, std::size_t) override {}
  void StepStarted(const std::string&, Action) override {}
  void StepFinished(const std::string&, Action, const std::string&, std::chrono::milliseconds) override {}
  void CheckWaiting(const std::string& a, const std::string& d, std::chrono::milliseconds,
                    std::chrono::milliseconds) override {
    seen.push_back(a + ": " + d);
  }
  void Note(const std::string&) override {}
};

}  // namespace

TEST_CASE("http: status and body of real servers") {
  LabEnv();
  auto ok = Run({{"kind", "http"}, {"url", "http://127.0.0.1:18090/"}, {"body_contains", "Directory listing"}});
  REQUIRE(ok);
  CHECK(ok->holds);
  auto missing = Run({{"kind", "http"}, {"url", "http://127.0.0.1:18080/nothing"}});
  REQUIRE(missing);
  CHECK_FALSE(missing->holds);
  CHECK(missing->detail == "HTTP 404 from http://127.0.0.1:18080/nothing (wanted 200)");
  auto expected =
      Run({{"kind", "http"}, {"url", "http://127.0.0.1:18080/nothing"}, {"expect_status", std::int64_t{404}}});
  REQUIRE(expected);
  CHECK(expected->holds);
  auto body = Run({{"kind", "http"}, {"url", "http://127.0.0.1:18090/"}, {"body_contains", "not on the page"}});
  REQUIRE(body);
  CHECK_FALSE(body->holds);
  CHECK(body->detail == "HTTP 200 from http://127.0.0.1:18090/, but the body lacks \"not on the page\"");
  auto refused = Run({{"kind", "http"}, {"url", "http://127.0.0.1:1/"}});
  REQUIRE(refused);
  CHECK_FALSE(refused->holds);
  CHECK(refused->detail.find("http://127.0.0.1:1/") != std::string::npos);
  auto malformed = Run({{"kind", "http"}, {"url", "htp:/nowhere"}});
  CHECK_FALSE(malformed);
}

TEST_CASE("tcp: open and closed ports, either way round") {
  LabEnv();
  auto open = Run({{"kind", "tcp"}, {"address", "127.0.0.1"}, {"port", std::int64_t{18080}}});
  REQUIRE(open);
  CHECK(open->holds);
  CHECK(open->detail == "127.0.0.1:18080 accepts connections");
  auto closed = Run({{"kind", "tcp"}, {"address", "127.0.0.1"}, {"port", std::int64_t{1}}, {"expect", "closed"}});
  REQUIRE(closed);
  CHECK(closed->holds);
  CHECK(closed->detail == "127.0.0.1:1 does not: Connection refused");
  auto wanted_closed =
      Run({{"kind", "tcp"}, {"address", "127.0.0.1"}, {"port", std::int64_t{18080}}, {"expect", "closed"}});
  REQUIRE(wanted_closed);
  CHECK_FALSE(wanted_closed->holds);
}

TEST_CASE("command: exit 0 holds, argv is not a shell line") {
  auto yes = Run({{"kind", "command"}, {"command", StringList{"test", "-d", "/tmp"}}});
  REQUIRE(yes);
  CHECK(yes->holds);
  auto no = Run({{"kind", "command"}, {"command", StringList{"sh", "-c", "echo nope >&2; exit 4"}}});
  REQUIRE(no);
  CHECK_FALSE(no->holds);
  CHECK(no->detail == "exit 4: nope\n");
  auto literal = Run({{"kind", "command"}, {"command", StringList{"test", "-e", "/tmp; true"}}});
  REQUIRE(literal);
  CHECK_FALSE(literal->holds);  // "/tmp; true" is one path that does not exist
}

TEST_CASE("the executor polls a check until its timeout, reporting what it sees") {
  TestWorld w;
  LoadResult load = w.Load(std::string(kHeader) + R"(
[check.never]
kind = "tcp"
address = "127.0.0.1"
port = 1
timeout = "1s"
interval = "200ms"
)");
  REQUIRE_MESSAGE(load.spec, TestWorld::Errors(load));
  auto plan = TestWorld::PlanOf(load);
  REQUIRE_MESSAGE(plan, (plan ? std::string() : plan.error().message));
  TempDir dir;
  auto journal = OpenFileJournal((dir.path / "j").string());
  Sealer sealer;
  Waits progress;
  Executor ex(ExecContext{*load.spec, *journal, sealer, progress, "apply", 4, 4});
  auto start = std::chrono::steady_clock::now();
  Status s = ex.RunChecks(plan->stages[0].steps);
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(s);
  CHECK(s.message() == "check.never did not hold within 1s: 127.0.0.1:1 does not: Connection refused");
  CHECK(took >= std::chrono::seconds(1));
  CHECK(took < std::chrono::seconds(3));
  CHECK(progress.seen.size() >= 3);
  CHECK(progress.seen[0] == "check.never: 127.0.0.1:1 does not: Connection refused");
}
