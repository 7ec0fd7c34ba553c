// Later stages wait out a changed DNS record's old TTL, timed from the journal.
#include <doctest/doctest.h>

#include "engine/exec/ttl_wait.h"
#include "tests/support/test_world.h"

using namespace reconcile;

namespace {

std::string SpecText(const std::string& extra = "") {
  return "version = 1\nname = \"t\"\nstages = [\"prepare\", \"switch\", \"after\"]\n"
         "[provider.dns.lab]\nkind = \"rfc2136\"\nserver = \"127.0.0.1:1\"\n"
         "[dns_record.www]\nprovider = \"dns.lab\"\nzone = \"example.test.\"\nname = \"www\"\ntype = \"A\"\n"
         "ttl = 60\nvalues = [\"192.0.2.1\"]\n" +
         extra;
}

std::string Utc(std::chrono::system_clock::time_point t) {
  std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm;
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::vector<JournalRecord> Changed(const std::string& action, std::chrono::system_clock::time_point at,
                                   bool existed = true) {
  nlohmann::json prior = {{"exists", existed}, {"attrs", {{"ttl", 300}, {"values", {"192.0.2.9"}}}}};
  return {{1,
           Utc(at),
           "intent",
           {{"op", "apply"},
            {"stage", "prepare"},
            {"address", "dns_record.www"},
            {"type", "dns_record"},
            {"action", action},
            {"prior", prior}}},
          {2, Utc(at), "done", {{"op", "apply"}, {"stage", "prepare"}, {"address", "dns_record.www"}}}};
}

}  // namespace

TEST_CASE("a record changed in an earlier stage holds later stages until its old TTL has passed") {
  TestWorld w;
  LoadResult load = w.Load(SpecText());
  REQUIRE_MESSAGE(load.spec, TestWorld::Errors(load));
  auto now = std::chrono::system_clock::now();
  auto waits = PendingTtlWaits(*load.spec, Summarize(Changed("update", now - std::chrono::seconds(100))), 1, now);
  REQUIRE(waits.size() == 1);
  CHECK(waits[0].address == "dns_record.www");
  CHECK(waits[0].ttl == 300);
  auto left = std::chrono::duration_cast<std::chrono::seconds>(waits[0].until - now).count();
  CHECK(left >= 200);
  CHECK(left <= 202);
  // Every later stage, not the one it changed in.
  CHECK(PendingTtlWaits(*load.spec, Summarize(Changed("update", now)), 2, now).size() == 1);
  CHECK(PendingTtlWaits(*load.spec, Summarize(Changed("update", now)), 0, now).empty());
  // Long enough ago, a created record (nothing was cached), or told not to: no wait.
  CHECK(PendingTtlWaits(*load.spec, Summarize(Changed("update", now - std::chrono::seconds(302))), 1, now).empty());
  CHECK(PendingTtlWaits(*load.spec, Summarize(Changed("create", now, false)), 1, now).empty());
  LoadResult told = w.Load(SpecText("wait_old_ttl = false\n"));
  REQUIRE_MESSAGE(told.spec, TestWorld::Errors(told));
  CHECK(PendingTtlWaits(*told.spec, Summarize(Changed("update", now)), 1, now).empty());
}
