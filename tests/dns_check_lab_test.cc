// check kind "dns" against the lab's BIND and PowerDNS as two authoritative servers of one
// name: holds only when both answer exactly the expected values, and says which does not.
// Every name here is dnscheck-N.example.test, set outright each run, so the test can run again
// on the same lab and other tests' names are never touched.
#include <doctest/doctest.h>

#include <cstdio>

#include "providers/check/check_provider.h"
#include "providers/check/dns_check.h"
#include "tests/support/lab_env.h"

using namespace reconcile;

namespace {

using Env = std::map<std::string, std::string>;

// Makes `which` ("BIND", "POWERDNS") serve exactly `values` for NAME.example.test (none: no
// such RRset).
void Set(const Env& env, const std::string& which, const std::string& name, const std::string& type,
         const StringList& values) {
  std::string server = env.at(which + "_SERVER");
  std::string owner = name + ".example.test.";
  std::string script = "server " + server.substr(0, server.find(':')) + " " + server.substr(server.find(':') + 1) +
                       "\nzone example.test.\nupdate delete " + owner + " " + type + "\n";
  for (const std::string& v : values) script += "update add " + owner + " 60 " + type + " " + v + "\n";
  script += "send\n";
  FILE* p = ::popen(
      ("nsupdate -y hmac-sha256:" + env.at(which + "_TSIG_NAME") + ":" + env.at(which + "_TSIG_SECRET")).c_str(), "w");
  REQUIRE(p);
  std::fputs(script.c_str(), p);
  REQUIRE(::pclose(p) == 0);
}

// As CheckProvider::Check hands them on: the defaults filled in (type A).
AttrMap Both(const Env& env, const std::string& name, StringList values) {
  return {{"kind", std::string("dns")},
          {"type", std::string("A")},
          {"name", name},
          {"zone", std::string("example.test.")},
          {"values", std::move(values)},
          {"servers", StringList{env.at("BIND_SERVER"), env.at("POWERDNS_SERVER")}}};
}

}  // namespace

TEST_CASE("dns: holds when every server answers the expected values") {
  auto env = LabEnv();
  Set(env, "BIND", "dnscheck-1", "A", {"192.0.2.20"});
  Set(env, "POWERDNS", "dnscheck-1", "A", {"192.0.2.20"});
  auto r = CheckDns(Both(env, "dnscheck-1", {"192.0.2.20"}));
  REQUIRE(r);
  CHECK(r->holds);
  CHECK(r->detail == "all 2 servers answer dnscheck-1.example.test. A 192.0.2.20");

  // An absolute name needs no zone.
  AttrMap absolute = Both(env, "dnscheck-1.example.test.", {"192.0.2.20"});
  absolute.erase("zone");
  r = CheckDns(absolute);
  REQUIRE(r);
  CHECK(r->holds);
}

TEST_CASE("dns: a server answering other values does not agree, and the detail says what it answers") {
  auto env = LabEnv();
  Set(env, "BIND", "dnscheck-2", "A", {"192.0.2.20"});
  Set(env, "POWERDNS", "dnscheck-2", "A", {"192.0.2.10"});
  auto r = CheckDns(Both(env, "dnscheck-2", {"192.0.2.20"}));
  REQUIRE(r);
  CHECK_FALSE(r->holds);
  CHECK(r->detail == env.at("POWERDNS_SERVER") + " answers 192.0.2.10 (want 192.0.2.20); 1 of 2 servers agree");

  // Exactly the values: one more is not agreement either.
  Set(env, "POWERDNS", "dnscheck-2", "A", {"192.0.2.20", "192.0.2.21"});
  r = CheckDns(Both(env, "dnscheck-2", {"192.0.2.20"}));
  REQUIRE(r);
  CHECK_FALSE(r->holds);
  CHECK(r->detail == env.at("POWERDNS_SERVER") +
                         " answers 192.0.2.20, 192.0.2.21 (want 192.0.2.20); 1 of 2 "
                         "servers agree");

  // The world catches up: the same check now holds.
  Set(env, "POWERDNS", "dnscheck-2", "A", {"192.0.2.20"});
  r = CheckDns(Both(env, "dnscheck-2", {"192.0.2.20"}));
  REQUIRE(r);
  CHECK(r->holds);
}

TEST_CASE("dns: a record missing on one server is named as answering nothing") {
  auto env = LabEnv();
  Set(env, "BIND", "dnscheck-3", "A", {"192.0.2.30"});
  Set(env, "POWERDNS", "dnscheck-3", "A", {});
  auto r = CheckDns(Both(env, "dnscheck-3", {"192.0.2.30"}));
  REQUIRE(r);
  CHECK_FALSE(r->holds);
  CHECK(r->detail == env.at("POWERDNS_SERVER") + " answers nothing (want 192.0.2.30); 1 of 2 servers agree");
}

TEST_CASE("dns: values compare as the server prints them, as a set") {
  auto env = LabEnv();
  Set(env, "BIND", "dnscheck-4", "CNAME", {"mail.example.test."});
  Set(env, "POWERDNS", "dnscheck-4", "CNAME", {"mail.example.test."});
  auto cname = [&](StringList values) {
    AttrMap attrs = Both(env, "dnscheck-4", std::move(values));
    attrs["type"] = std::string("CNAME");
    return CheckDns(attrs);
  };
  auto r = cname({"mail"});
  REQUIRE(r);
  CHECK(r->holds);
  r = cname({"mail", "mail.example.test."});
  REQUIRE(r);
  CHECK(r->holds);
  r = cname({"other"});
  REQUIRE(r);
  CHECK_FALSE(r->holds);
  CHECK(r->detail.find(env.at("BIND_SERVER") + " answers mail.example.test. (want other.example.test.); ") == 0);
}

TEST_CASE("dns: a server that does not answer is a disagreement with its reason, not an error") {
  auto env = LabEnv();
  Set(env, "BIND", "dnscheck-5", "A", {"192.0.2.50"});
  AttrMap attrs = Both(env, "dnscheck-5", {"192.0.2.50"});
  attrs["servers"] = StringList{env.at("BIND_SERVER"), "127.0.0.1:1"};
  auto r = CheckDns(attrs);
  REQUIRE(r);
  CHECK_FALSE(r->holds);
  CHECK(r->detail.find("127.0.0.1:1") != std::string::npos);
  CHECK(r->detail.find(env.at("BIND_SERVER")) == std::string::npos);
  CHECK(r->detail.ends_with("; 1 of 2 servers agree"));
}

TEST_CASE("dns: the servers can come from the zone's NS set, asked of its primary") {
  auto env = LabEnv();
  // The lab's example.test has one NS, ns1.example.test. A 127.0.0.1, served on BIND's port.
  std::string port = env.at("BIND_SERVER").substr(env.at("BIND_SERVER").find(':') + 1);
  AttrMap attrs = {{"kind", std::string("dns")},       {"type", std::string("A")},
                   {"name", std::string("base")},      {"zone", std::string("example.test")},
                   {"server", env.at("BIND_SERVER")},  {"ns_port", std::int64_t{std::stoi(port)}},
                   {"values", StringList{"192.0.2.1"}}};
  auto r = CheckDns(attrs);
  REQUIRE(r);
  CHECK(r->holds);
  CHECK(r->detail == "its one server answers base.example.test. A 192.0.2.1");
  attrs["values"] = StringList{"192.0.2.2"};
  r = CheckDns(attrs);
  REQUIRE(r);
  CHECK_FALSE(r->holds);
  CHECK(r->detail == "127.0.0.1:" + port + " answers 192.0.2.1 (want 192.0.2.2); 0 of 1 servers agree");
}

TEST_CASE("dns: a malformed check is an error, not a wait") {
  auto env = LabEnv();
  AttrMap attrs = Both(env, "x", {"192.0.2.1"});
  attrs["servers"] = StringList{env.at("BIND_SERVER"), "127.0.0.1:notaport"};
  auto r = CheckDns(attrs);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "servers: '127.0.0.1:notaport': the port must be a number");
  attrs.erase("servers");
  r = CheckDns(attrs);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("a dns check needs servers") == 0);
}

TEST_CASE("dns: the check provider runs kind dns") {
  auto env = LabEnv();
  Set(env, "BIND", "dnscheck-6", "A", {"192.0.2.60"});
  Set(env, "POWERDNS", "dnscheck-6", "A", {"192.0.2.60"});
  CheckProvider p;
  TypeSchema schema = p.Types()[0];
  AttrMap attrs = Both(env, "dnscheck-6", {"192.0.2.60"});
  attrs.erase("type");  // the provider fills in its default, A
  auto r = p.Check(Target{"check.t", &schema, attrs, nullptr, nullptr});
  REQUIRE(r);
  CHECK(r->holds);
}
