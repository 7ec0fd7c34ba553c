// check kind "dns" against the lab's BIND and PowerDNS as two authoritative servers of one
// name: holds only when both answer exactly the expected values, and says which does not.
#include <doctest/doctest.h>

#include <cstdio>

#include "providers/check/dns_check.h"
#include "tests/support/lab_env.h"

using namespace reconcile;

namespace {

void Nsupdate(const std::map<std::string, std::string>& env, const std::string& which, const std::string& commands) {
  std::string server = env.at(which + "_SERVER");
  std::string script = "server " + server.substr(0, server.find(':')) + " " + server.substr(server.find(':') + 1) +
                       "\nzone example.test.\n" + commands + "send\n";
  FILE* p = ::popen(("nsupdate -y hmac-sha256:" + env.at(which + "_TSIG_NAME") + ":" + env.at(which + "_TSIG_SECRET"))
                        .c_str(), "w");
  std::fputs(script.c_str(), p);
  REQUIRE(::pclose(p) == 0);
}

AttrMap Both(const std::map<std::string, std::string>& env, const std::string& name, StringList values) {
  return {{"kind", std::string("dns")},
          {"name", name},
          {"zone", std::string("example.test.")},
          {"values", std::move(values)},
          {"servers", StringList{env.at("BIND_SERVER"), env.at("POWERDNS_SERVER")}}};
}

}  // namespace

TEST_CASE("dns: holds only when every server answers the expected values, naming the one behind") {
  auto env = LabEnv();
  Nsupdate(env, "BIND", "update delete checked.example.test. A\nupdate add checked.example.test. 60 A 192.0.2.20\n");
  Nsupdate(env, "POWERDNS", "update delete checked.example.test. A\nupdate add checked.example.test. 60 A 192.0.2.10\n");
  auto r = CheckDns(Both(env, "checked", {"192.0.2.20"}));
  REQUIRE(r);
  CHECK_FALSE(r->holds);
  CHECK(r->detail == env.at("POWERDNS_SERVER") + " answers 192.0.2.10 (want 192.0.2.20); 1 of 2 servers agree");

  Nsupdate(env, "POWERDNS", "update delete checked.example.test. A\nupdate add checked.example.test. 60 A 192.0.2.20\n");
  r = CheckDns(Both(env, "checked", {"192.0.2.20"}));
  REQUIRE(r);
  CHECK(r->holds);
  CHECK(r->detail == "all 2 servers answer checked.example.test. A 192.0.2.20");

  r = CheckDns(Both(env, "missing-here", {"192.0.2.20"}));
  REQUIRE(r);
  CHECK_FALSE(r->holds);
  CHECK(r->detail.find(env.at("BIND_SERVER") + " answers nothing (want 192.0.2.20)") == 0);
}

TEST_CASE("dns: the servers can come from the zone's NS set, asked of its primary") {
  auto env = LabEnv();
  std::string port = env.at("BIND_SERVER").substr(env.at("BIND_SERVER").find(':') + 1);
  AttrMap attrs = {{"kind", std::string("dns")},
                   {"name", std::string("base")},
                   {"zone", std::string("example.test")},
                   {"server", env.at("BIND_SERVER")},
                   {"ns_port", std::int64_t{std::stoi(port)}},
                   {"values", StringList{"192.0.2.1"}}};
  auto r = CheckDns(attrs);
  REQUIRE(r);
  CHECK(r->holds);
  CHECK(r->detail == "its one server answers base.example.test. A 192.0.2.1");  // ns1.example.test. = 127.0.0.1
  attrs["values"] = StringList{"192.0.2.2"};
  r = CheckDns(attrs);
  REQUIRE(r);
  CHECK_FALSE(r->holds);
}

TEST_CASE("dns: a malformed check is an error, not a wait") {
  auto env = LabEnv();
  AttrMap attrs = Both(env, "x", {"192.0.2.1"});
  attrs["servers"] = StringList{"127.0.0.1:notaport"};
  auto r = CheckDns(attrs);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "servers: '127.0.0.1:notaport': the port must be a number");
  attrs.erase("servers");
  r = CheckDns(attrs);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("a dns check needs servers") == 0);
}
