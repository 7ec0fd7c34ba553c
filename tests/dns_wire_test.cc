// DNS values and UPDATE sizes without a server: addresses read as ldns reads them (and turned
// down as it turns them down), and the bound on a change's bytes in an UPDATE that decides how
// many changes one message carries.
#include <doctest/doctest.h>

#include "providers/dns/dns_wire.h"

using namespace reconcile;
using namespace reconcile::dns;

TEST_CASE("A and AAAA values are canonical as the server prints them, and bad ones are refused") {
  auto canonical = [](const std::string& type, const std::string& value) {
    auto c = CanonicalValue(type, value, "example.test.");
    return c ? *c : "error";
  };
  CHECK(canonical("A", "192.0.2.1") == "192.0.2.1");
  CHECK(canonical("A", "10.2.3.232") == "10.2.3.232");
  CHECK(canonical("AAAA", "2001:DB8:0:0:0:0:0:1") == "2001:db8::1");
  CHECK(canonical("AAAA", "0:0:0:0:0:ffff:c000:0201") == "::ffff:192.0.2.1");
  CHECK(canonical("AAAA", "::") == "::");
  for (const char* bad : {"256.1.1.1", "01.2.3.4", "1.2.3", "1.2.3.4.5", "0x1.2.3.4", "1.2.3.4x"})
    CHECK_MESSAGE(canonical("A", bad) == "error", bad);
  for (const char* bad : {"2001:db8::1::2", "1.2.3.4", "1:2:3:4:5:6:7:8:9", ":1::"})
    CHECK_MESSAGE(canonical("AAAA", bad) == "error", bad);
  // Other types still go through ldns: a relative name made absolute.
  CHECK(canonical("CNAME", "base") == "base.example.test.");
  CHECK(canonical("MX", "10 mail") == "10 mail.example.test.");
}

TEST_CASE("a change's share of an UPDATE: each record's owner labels, a pointer to the zone, the rdata") {
  RRset before{"r1000.bulk.test.", "A", 60, {"10.1.3.232"}, std::nullopt};
  RRset after{"r1000.bulk.test.", "A", 60, {"10.2.3.232"}, std::nullopt};
  // "r1000" and a pointer (8), 10 fixed, 4 of address: the prerequisite and the add; the delete
  // has no rdata.
  CHECK(UpdateSizeBound({before, after}, "bulk.test.") == 22 + 18 + 22);
  CHECK(UpdateSizeBound({before, after}, "bulk.test") == 22 + 18 + 22);
  CHECK(UpdateSizeBound({std::nullopt, after}, "bulk.test.") == 18 + 22);  // "must not exist", the add
  CHECK(UpdateSizeBound({before, std::nullopt}, "bulk.test.") == 22 + 18);
  // A name outside the zone is counted whole.
  RRset outside{"www.other.test.", "AAAA", 60, {"::1"}, std::nullopt};
  CHECK(UpdateSizeBound({std::nullopt, outside}, "bulk.test.") == (17 + 10) + (17 + 10 + 16));
  // A name in the data may be relative (made absolute against the zone); a long TXT is split.
  RRset cname{"www.bulk.test.", "CNAME", 60, {"base"}, std::nullopt};
  CHECK(UpdateSizeBound({std::nullopt, cname}, "bulk.test.") == (6 + 10) + (6 + 10 + (4 + 10 + 2)));
  // The bench's 1,000 changes (r1 … r1000, each a prerequisite, a delete and an add) fit one
  // full message; 1,100 do not. reconcile sends them as four of kUpdateBudget.
  auto total = [](int n) {
    std::size_t sum = 0;
    for (int i = 1; i <= n; ++i) {
      std::string owner = "r" + std::to_string(i) + ".bulk.test.";
      sum += UpdateSizeBound(
          {RRset{owner, "A", 60, {"10.1.0.1"}, std::nullopt}, RRset{owner, "A", 60, {"10.2.0.1"}, std::nullopt}},
          "bulk.test.");
    }
    return sum;
  };
  CHECK(total(1000) <= kMaxMessage - kUpdateReserve);
  CHECK(total(1100) > kMaxMessage - kUpdateReserve);
}
