// The nftables table reconcile owns, as text: nft's JSON listing read back into port states,
// sources made canonical the way nft prints them, and the script each state is written with.
#include <doctest/doctest.h>

#include "providers/firewall/nft_table.h"

using namespace reconcile;

namespace {

// As nft 1.0.6 lists a table with tcp/5432 open to two IPv4 networks and one IPv6 network,
// and udp/53 closed to one address.
const char* kListing = R"({"nftables": [
 {"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
 {"table": {"family": "inet", "name": "reconcile", "handle": 1}},
 {"map": {"family": "inet", "name": "ports", "table": "reconcile", "type": ["inet_proto", "inet_service"],
  "handle": 2, "map": "verdict", "elem": [[{"concat": ["udp", 53]}, {"jump": {"target": "udp_53"}}],
                                          [{"concat": ["tcp", 5432]}, {"jump": {"target": "tcp_5432"}}]]}},
 {"chain": {"family": "inet", "table": "reconcile", "name": "input", "handle": 1, "type": "filter",
  "hook": "input", "prio": 0, "policy": "accept"}},
 {"chain": {"family": "inet", "table": "reconcile", "name": "tcp_5432", "handle": 4}},
 {"chain": {"family": "inet", "table": "reconcile", "name": "udp_53", "handle": 9}},
 {"rule": {"family": "inet", "table": "reconcile", "chain": "input", "handle": 11, "expr": [{"vmap": {"key":
  {"concat": [{"meta": {"key": "l4proto"}}, {"payload": {"protocol": "th", "field": "dport"}}]}, "data": "@ports"}}]}},
 {"rule": {"family": "inet", "table": "reconcile", "chain": "tcp_5432", "handle": 13, "expr": [
  {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}},
   "right": {"set": [{"prefix": {"addr": "10.0.0.0", "len": 8}}, "192.0.2.1"]}}}, {"accept": null}]}},
 {"rule": {"family": "inet", "table": "reconcile", "chain": "tcp_5432", "handle": 14, "expr": [
  {"match": {"op": "==", "left": {"payload": {"protocol": "ip6", "field": "saddr"}},
   "right": {"prefix": {"addr": "2001:db8::", "len": 32}}}}, {"accept": null}]}},
 {"rule": {"family": "inet", "table": "reconcile", "chain": "tcp_5432", "handle": 15, "expr": [
  {"match": {"op": "==", "left": {"meta": {"key": "l4proto"}}, "right": "tcp"}}, {"reject": {"type": "tcp reset"}}]}},
 {"rule": {"family": "inet", "table": "reconcile", "chain": "udp_53", "handle": 16, "expr": [
  {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": "192.0.2.7"}},
  {"reject": {"type": "icmp", "expr": "port-unreachable"}}]}}
]})";

}  // namespace

TEST_CASE("a listing reads back as the state of each port in the map") {
  auto table = nft::ParseTable(kListing);
  REQUIRE(table);
  CHECK(table->exists);
  CHECK(table->dispatching);
  REQUIRE(table->ports.size() == 2);
  nft::PortState pg = nft::StateOf(table->ports.at("tcp/5432"));
  CHECK(pg.state == "open");
  CHECK(pg.sources == std::vector<std::string>{"10.0.0.0/8", "192.0.2.1", "2001:db8::/32"});
  nft::PortState dns = nft::StateOf(table->ports.at("udp/53"));
  CHECK(dns.state == "closed");
  CHECK(dns.sources == std::vector<std::string>{"192.0.2.7"});
}

TEST_CASE("a port's chain with only the catch-all is closed to all; an empty one is open to all") {
  nft::PortRules closed;
  closed.refuse_rest = true;
  CHECK(nft::StateOf(closed).state == "closed");
  CHECK(nft::StateOf(closed).sources.empty());
  CHECK(nft::StateOf(nft::PortRules{}).state == "open");
}

TEST_CASE("without the input chain's dispatch rule the table says so") {
  std::string listing = kListing;
  listing.replace(listing.find("\"@ports\""), 8, "\"@other\"");
  auto table = nft::ParseTable(listing);
  REQUIRE(table);
  CHECK_FALSE(table->dispatching);
}

TEST_CASE("a rule reconcile did not write stops the probe and names its handle") {
  std::string listing = kListing;
  listing.replace(listing.find("{\"accept\": null}]}},\n {\"rule\": {\"family\": \"inet\", \"table\": \"reconcile\", "
                               "\"chain\": \"tcp_5432\", \"handle\": 15"),
                  16, "{\"counter\": {\"packets\": 0, \"bytes\": 0}}, {\"accept\": null}");
  auto table = nft::ParseTable(listing);
  REQUIRE_FALSE(table);
  CHECK(table.error().message.find("nft delete rule inet reconcile tcp_5432 handle 14") != std::string::npos);
}

TEST_CASE("not nft's JSON is an error, not an empty table") {
  CHECK_FALSE(nft::ParseTable("Error: syntax error"));
  CHECK_FALSE(nft::ParseTable("{}"));
}

TEST_CASE("sources are written the way nft lists them") {
  CHECK(*nft::NormalizeSource("192.0.2.1/32") == "192.0.2.1");
  CHECK(*nft::NormalizeSource("10.0.0.0/8") == "10.0.0.0/8");
  CHECK(*nft::NormalizeSource("2001:DB8:0::/32") == "2001:db8::/32");
  CHECK(*nft::NormalizeSource("2001:db8::1/128") == "2001:db8::1");
  auto host_bits = nft::NormalizeSource("10.1.2.3/8");
  REQUIRE_FALSE(host_bits);
  CHECK(host_bits.error().message.find("did you mean 10.0.0.0/8?") != std::string::npos);
  CHECK_FALSE(nft::NormalizeSource("10.0.0.300"));
  CHECK_FALSE(nft::NormalizeSource("10.0.0.0/33"));
  CHECK_FALSE(nft::NormalizeSource("10.0.0.0/"));
}

TEST_CASE("each state is one script: the frame, the port's chain rewritten, the map entry") {
  std::string open_to = nft::SetPortScript("tcp", 5432, {"open", {"10.0.0.0/8", "2001:db8::/32"}});
  CHECK(open_to.find("flush chain inet reconcile tcp_5432\n") != std::string::npos);
  CHECK(open_to.find("add rule inet reconcile tcp_5432 ip saddr { 10.0.0.0/8 } accept\n") != std::string::npos);
  CHECK(open_to.find("add rule inet reconcile tcp_5432 ip6 saddr { 2001:db8::/32 } accept\n") != std::string::npos);
  CHECK(open_to.find("add rule inet reconcile tcp_5432 reject with tcp reset\n") != std::string::npos);
  CHECK(open_to.find("add element inet reconcile ports { tcp . 5432 : jump tcp_5432 }") != std::string::npos);

  std::string closed_to = nft::SetPortScript("udp", 53, {"closed", {"192.0.2.7"}});
  CHECK(closed_to.find("add rule inet reconcile udp_53 ip saddr { 192.0.2.7 } reject\n") != std::string::npos);
  CHECK(closed_to.find("add rule inet reconcile udp_53 reject\n") == std::string::npos);

  std::string open_all = nft::SetPortScript("tcp", 80, {"open", {}});
  CHECK(open_all.find("add rule inet reconcile tcp_80") == std::string::npos);
}

// As nft 1.0.6 lists the table an older reconcile left when killed between its two runs of
// a removal: the frame, no port.
const char* kLeftover = R"({"nftables": [
 {"metainfo": {"version": "1.0.6", "json_schema_version": 1}},
 {"table": {"family": "inet", "name": "reconcile", "handle": 7}},
 {"chain": {"family": "inet", "table": "reconcile", "name": "input", "handle": 1, "type": "filter",
  "hook": "input", "prio": 0, "policy": "accept"}},
 {"map": {"family": "inet", "name": "ports", "table": "reconcile", "type": ["inet_proto", "inet_service"],
  "handle": 2, "map": "verdict"}},
 {"rule": {"family": "inet", "table": "reconcile", "chain": "input", "handle": 3, "expr": [{"vmap": {"key":
  {"concat": [{"meta": {"key": "l4proto"}}, {"payload": {"protocol": "th", "field": "dport"}}]}, "data": "@ports"}}]}}
]})";

TEST_CASE("a removal is one script: the port, or the whole table with its last port") {
  auto two = nft::ParseTable(kListing);
  REQUIRE(two);
  CHECK_FALSE(two->Leftover());
  CHECK(nft::RemovePortScript(*two, "tcp", 5432) ==
        "delete element inet reconcile ports { tcp . 5432 }\ndelete chain inet reconcile tcp_5432\n");
  CHECK(nft::RemovePortScript(*two, "tcp", 80) == "");

  nft::Table one = *two;
  one.ports.erase("udp/53");
  CHECK(nft::RemovePortScript(one, "tcp", 5432) == "delete table inet reconcile\n");

  CHECK(nft::RemovePortScript(nft::Table{}, "tcp", 5432) == "");
}

TEST_CASE("a table left with no port is seen, and removed by the next removal of any port") {
  auto left = nft::ParseTable(kLeftover);
  REQUIRE(left);
  CHECK(left->exists);
  CHECK(left->Leftover());
  CHECK(nft::RemovePortScript(*left, "tcp", 5432) == "delete table inet reconcile\n");
}
