// check kind "wait": a runbook's pause ("wait 6 minutes after maintenance mode") holds once its
// duration has passed since it was first asked in this run, counts down while it waits, and
// by default may take its duration and a minute. Real time, with a second's wait.
#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "providers/check/check_provider.h"
#include "tests/support/after_header.h"
#include "tests/support/test_world.h"

using namespace reconcile;
using after_header::FirstError;

namespace {

// A wait check whose duration is on line 6.
std::string Wait(const std::string& duration, const std::string& extra = "") {
  return "[check.drain]\nkind = \"wait\"\nduration = \"" + duration + "\"\nstage = \"two\"\n" + extra + "\n";
}

}  // namespace

TEST_CASE("a wait holds once its duration has passed since it was first asked, counting down") {
  CheckProvider p;
  TypeSchema schema = p.Types()[0];
  Target drain{"check.drain", &schema, {{"kind", std::string("wait")}, {"duration", std::string("1s")}}};
  Target other{"check.other", &schema, {{"kind", std::string("wait")}, {"duration", std::string("1s")}}};
  auto start = std::chrono::steady_clock::now();
  auto first = p.Check(drain);
  REQUIRE(first);
  CHECK_FALSE(first->holds);
  CHECK(first->detail == "1s left of 1s");
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  auto later = p.Check(drain);
  REQUIRE(later);
  CHECK_FALSE(later->holds);
  CHECK(later->detail == "1s left of 1s");  // 400 ms, rounded up: never "0ms left" while it waits
  auto other_first = p.Check(other);        // its own clock, started now
  REQUIRE(other_first);
  CHECK_FALSE(other_first->holds);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  auto done = p.Check(drain);
  REQUIRE(done);
  CHECK(done->holds);
  CHECK(done->detail == "1s have passed");
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::seconds(1));
  auto other_later = p.Check(other);
  REQUIRE(other_later);
  CHECK_FALSE(other_later->holds);
  // A new run (a new provider) waits again in full.
  CheckProvider next_run;
  auto again = next_run.Check(drain);
  REQUIRE(again);
  CHECK_FALSE(again->holds);
}

TEST_CASE(
    "a wait's timeout is its duration and a minute, its interval a second, unless the spec says; other "
    "checks' are 5m and 5s") {
  TestWorld w;
  LoadResult r = w.Load(std::string(kHeader) + Wait("6m") +
                        "[check.up]\nkind = \"tcp\"\naddress = \"127.0.0.1\"\n"
                        "port = 1\nstage = \"two\"\n");
  REQUIRE_MESSAGE(r.spec, TestWorld::Errors(r));
  auto drain = Desired(*r.spec, *r.spec->Find("check.drain"), 1, false);
  REQUIRE(drain);
  CHECK(drain->attrs.at("timeout") == Value(std::string("420s")));
  CHECK(drain->attrs.at("interval") == Value(std::string("1s")));
  auto up = Desired(*r.spec, *r.spec->Find("check.up"), 1, false);
  REQUIRE(up);
  // Other kinds take the attributes' default_value.
  CHECK(up->attrs.at("timeout") == Value(std::string("5m")));
  CHECK(up->attrs.at("interval") == Value(std::string("5s")));

  LoadResult own = w.Load(std::string(kHeader) + Wait("6m", "timeout = \"10m\"\ninterval = \"5s\""));
  REQUIRE_MESSAGE(own.spec, TestWorld::Errors(own));
  auto d = Desired(*own.spec, *own.spec->Find("check.drain"), 1, false);
  REQUIRE(d);
  CHECK(d->attrs.at("timeout") == Value(std::string("10m")));
  CHECK(d->attrs.at("interval") == Value(std::string("5s")));
}

TEST_CASE("a wait's duration is checked at validate time") {
  CHECK(FirstError(Wait("6m", "timeout = \"5m\"")) ==
        "6:12: error: attribute 'duration' of check.drain: is not shorter than the check's timeout (5m), so the "
        "wait could never end in time; raise timeout or leave it out (it is then the duration and a minute)");
  CHECK(FirstError(Wait("25h"))
            .find("6:12: error: attribute 'duration' of check.drain: is longer than a wait can "
                  "be (24h at most)") == 0);
  // Past what any duration may be: the loader's own limit speaks first.
  CHECK(FirstError(Wait("99999999999999999999999s"))
            .find("6:12: error: attribute 'duration' of check.drain is longer "
                  "than 8784h") == 0);
  CHECK(FirstError(Wait("0s")).find("is zero") != std::string::npos);
  CHECK(FirstError(Wait("soon")).find("must be a duration") != std::string::npos);
  CHECK(FirstError("[check.drain]\nkind = \"wait\"\nstage = \"two\"\n").find("duration") != std::string::npos);
  CHECK(FirstError("[check.drain]\nkind = \"http\"\nurl = \"http://x/\"\nduration = \"1m\"\nstage = \"two\"\n")
            .find("7:12: error: 'duration' does not apply to a check of kind 'http'") == 0);
}
