// [notify] as the loader reads it: defaults, every key, and each mistake at its place without
// showing the line that holds the webhook (a secret even written out).
#include <doctest/doctest.h>

#include "tests/support/test_world.h"

using namespace reconcile;

namespace {

std::string WithNotify(const std::string& body) { return std::string(kHeader) + "[notify]\n" + body; }

}  // namespace

TEST_CASE("[notify] defaults: slack, every event but stage_started, checks said after 2m") {
  TestWorld w;
  LoadResult r = w.Load(WithNotify("webhook = \"env:SLACK_WEBHOOK\"\n"));
  REQUIRE_MESSAGE(r.spec, TestWorld::Errors(r));
  REQUIRE(r.spec->notify);
  const NotifySpec& n = *r.spec->notify;
  CHECK(n.webhook == "env:SLACK_WEBHOOK");
  CHECK(n.webhook_secret);
  CHECK(n.format == "slack");
  CHECK(n.events == DefaultNotifyEvents());
  CHECK_FALSE(n.Wants("stage_started"));
  CHECK(n.Wants("stage_failed"));
  CHECK(n.check_failing_after == std::chrono::minutes(2));
}

TEST_CASE("[notify] keys as written") {
  TestWorld w;
  LoadResult r = w.Load(WithNotify(
      "webhook = \"https://chat.example.org/hooks/x\"\nformat = \"json\"\n"
      "events = [\"stage_started\", \"check_failing\", \"stage_started\"]\ncheck_failing_after = \"45s\"\n"));
  REQUIRE_MESSAGE(r.spec, TestWorld::Errors(r));
  const NotifySpec& n = *r.spec->notify;
  CHECK_FALSE(n.webhook_secret);
  CHECK(n.format == "json");
  CHECK(n.events == std::vector<std::string>{"stage_started", "check_failing"});
  CHECK(n.check_failing_after == std::chrono::seconds(45));
}

TEST_CASE("a spec without [notify] has none") {
  TestWorld w;
  LoadResult r = w.Load(kHeader);
  REQUIRE(r.spec);
  CHECK_FALSE(r.spec->notify);
}

TEST_CASE("[notify] mistakes, each at its place; the webhook's line is never shown") {
  TestWorld w;
  auto errors = [&](const std::string& body) {
    LoadResult r = w.Load(WithNotify(body));
    CHECK(r.spec == nullptr);
    return TestWorld::Errors(r);
  };
  CHECK(errors("webhook = \"hooks.example.com/T/secret\"\n") ==
        "spec.toml:5:11: error: 'webhook' of [notify] must be an https:// (or http://) URL, or env:NAME or "
        "file:PATH holding one\n  write webhook = \"env:SLACK_WEBHOOK\" and export the URL there: it is a secret\n");
  CHECK(errors("webhok = \"https://hooks.example.com/T/secret\"\n") ==
        "spec.toml:4:1: error: [notify] has no 'webhook'\n 4 | [notify]\n   | ^\n"
        "  add webhook = \"env:SLACK_WEBHOOK\" (the URL, exported under that name), or remove [notify]\n"
        "spec.toml:5:1: error: unknown key 'webhok' in [notify], did you mean 'webhook'?\n");
  CHECK(errors("webhook = \"env:W\"\nevents = \"stage_failed\"\n")
            .find("spec.toml:6:10: error: 'events' of [notify] must be a list of events") != std::string::npos);
  CHECK(errors("webhook = \"env:W\"\nevents = [\"apply_done\"]\n")
            .find("spec.toml:6:11: error: unknown event 'apply_done' in 'events' of [notify]") != std::string::npos);
  CHECK(errors("webhook = \"env:W\"\ncheck_failing_after = \"soon\"\n")
            .find("spec.toml:6:23: error: 'check_failing_after' of [notify] must be a duration") != std::string::npos);
  CHECK(errors("webhook = \"env:W\"\nformat = \"markdown\"\n")
            .find("spec.toml:6:10: error: 'format' of [notify] must be \"slack\"") != std::string::npos);
}

TEST_CASE("notify must be a table") {
  TestWorld w;
  LoadResult r = w.Load(std::string(kHeader) + "notify = \"https://hooks.example.com/T/secret\"\n");
  CHECK(r.spec == nullptr);
  std::string errors = TestWorld::Errors(r);
  CHECK(errors.find("spec.toml:4:10: error: 'notify' must be a table [notify]") != std::string::npos);
  CHECK(errors.find("secret") == std::string::npos);
}
