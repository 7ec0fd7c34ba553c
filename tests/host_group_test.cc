// Host groups ([hosts.NAME]): a resource on host = "group:NAME" is one resource per member,
// addressed TYPE.NAME[MEMBER], each with its own host, steps, journal records and rollback;
// what it names and what names it follow, a member to its own member where both are grouped.
#include <doctest/doctest.h>

#include <algorithm>

#include "tests/support/test_world.h"

using namespace reconcile;

namespace {

const char* kFleet = R"(
[host.bastion]
address = "10.0.0.1"

[hosts.web]
addresses = ["web1", "web2"]
user = "deploy"
jump = "bastion"

[hosts.proxies]
addresses = ["proxy1"]
)";

bool Has(const Resource& r, const Spec& spec, const std::string& on, Dependency::Kind kind) {
  return std::any_of(r.deps.begin(), r.deps.end(),
                     [&](const Dependency& d) { return d.kind == kind && spec.resources[d.on].address == on; });
}

}  // namespace

TEST_CASE("a resource on a group is one per member, each on its own host") {
  TestWorld w;
  LoadResult load = w.Load(std::string(kHeader) + kFleet + R"(
[file.conf]
host = "group:web"
path = "/etc/app.conf"
content = "x"
notify = ["command.reload"]
[command.reload]
host = "group:web"
apply = ["systemctl", "reload", "app"]
[file.index]
host = "local"
path = "/tmp/index"
content = "y"
after = ["file.conf"]
)");
  REQUIRE_MESSAGE(load.spec, TestWorld::Errors(load));
  const Spec& spec = *load.spec;
  REQUIRE(spec.Find("file.conf[web1]"));
  REQUIRE(spec.Find("file.conf[web2]"));
  CHECK_FALSE(spec.Find("file.conf"));
  CHECK(spec.Find("file.conf[web1]")->host == "web1");
  const HostConfig& web2 = spec.hosts.at("web2");
  CHECK(web2.address == "web2");
  CHECK(web2.user == "deploy");
  REQUIRE(web2.via);
  CHECK(web2.via->name == "bastion");
  // A file on web1 notifies the reload on web1 only.
  const Resource& reload1 = *spec.Find("command.reload[web1]");
  REQUIRE(reload1.notified_by.size() == 1);
  CHECK(spec.resources[reload1.notified_by[0]].address == "file.conf[web1]");
  // What names the group waits for every member.
  const Resource& index = *spec.Find("file.index");
  CHECK(Has(index, spec, "file.conf[web1]", Dependency::Kind::kAfter));
  CHECK(Has(index, spec, "file.conf[web2]", Dependency::Kind::kAfter));
}

TEST_CASE("host groups: what cannot be is refused at its place") {
  TestWorld w;
  std::string base = std::string(kHeader) + kFleet;
  CHECK(w.FirstError(base + "[file.f]\nhost = \"group:wbe\"\npath = \"/f\"\n")
            .find("unknown host group 'wbe' for file.f, did you mean 'web'?") != std::string::npos);
  CHECK(w.FirstError(std::string(kHeader) + "[hosts.web]\nuser = \"deploy\"\n")
            .find("[hosts.web] must list its members: addresses = [") != std::string::npos);
  CHECK(w.FirstError(std::string(kHeader) + "[host.web1]\naddress = \"a\"\n[hosts.web]\naddresses = [\"web1\"]\n")
            .find("'web1' of [hosts.web] is also a [host.web1]") != std::string::npos);
  CHECK(
      w.FirstError(base +
                   "[file.g]\nhost = \"group:web\"\npath = \"/g\"\ncontent = \"g\"\n[file.h]\nhost = \"local\"\npath = "
                   "\"/h\"\ncontent = \"${file.g.content}\"\n")
          .find("refers to file.g, which is one resource per host of its group") != std::string::npos);
  // A list of declared hosts is a group too.
  LoadResult listed = w.Load(std::string(kHeader) +
                             "hosts.pair = [\"a\", \"b\"]\n[host.a]\naddress = \"10.0.0.2\"\n[host.b]\naddress = "
                             "\"10.0.0.3\"\n[file.f]\nhost = \"group:pair\"\npath = \"/f\"\n");
  REQUIRE_MESSAGE(listed.spec, TestWorld::Errors(listed));
  CHECK(listed.spec->Find("file.f[b]"));
  // ... and so is a [hosts.NAME] table's hosts = [...].
  LoadResult table = w.Load(std::string(kHeader) +
                            "[host.a]\naddress = \"10.0.0.2\"\n[host.b]\naddress = \"10.0.0.3\"\n"
                            "[hosts.pair]\nhosts = [\"a\", \"b\"]\n[file.f]\nhost = \"group:pair\"\npath = \"/f\"\n");
  REQUIRE_MESSAGE(table.spec, TestWorld::Errors(table));
  CHECK(table.spec->Find("file.f[a]")->host == "a");
  CHECK(w.FirstError(std::string(kHeader) + "[host.a]\naddress = \"x\"\n[hosts.pair]\nhosts = [\"a\", \"c\"]\n")
            .find("[hosts.pair] names 'c', which is not a [host.NAME]") != std::string::npos);
}

TEST_CASE("host groups: between two groups every member waits for every other; names are host names") {
  TestWorld w;
  LoadResult load = w.Load(std::string(kHeader) + R"(
[hosts.web]
addresses = ["web1", "web2"]
[hosts.db]
addresses = ["db1"]
[command.migrate]
host = "group:db"
apply = ["true"]
[file.conf]
host = "group:web"
path = "/etc/app.conf"
content = "x"
after = ["command.migrate"]
)");
  REQUIRE_MESSAGE(load.spec, TestWorld::Errors(load));
  const Spec& spec = *load.spec;
  CHECK(Has(*spec.Find("file.conf[web1]"), spec, "command.migrate[db1]", Dependency::Kind::kAfter));
  CHECK(Has(*spec.Find("file.conf[web2]"), spec, "command.migrate[db1]", Dependency::Kind::kAfter));
  CHECK(w.FirstError(std::string(kHeader) + "[hosts.web]\naddresses = [\"../etc\"]\n")
            .find("'../etc' in 'addresses' of [hosts.web] is not a host name or address") != std::string::npos);
  // A group's keys are read once, and their errors said at their place.
  CHECK(w.FirstError(std::string(kHeader) + "[hosts.web]\naddresses = [\"a\", \"b\"]\nport = 0\n") ==
        "6:8: error: 'port' of [hosts.web] must be a port number from 1 to 65535");
  // A member may be another host's jump.
  LoadResult jumped = w.Load(std::string(kHeader) +
                             "[host.inner]\naddress = \"10.0.0.9\"\njump = \"b1\"\n[hosts.bastions]\naddresses = "
                             "[\"b1\"]\n");
  REQUIRE_MESSAGE(jumped.spec, TestWorld::Errors(jumped));
  REQUIRE(jumped.spec->hosts.at("inner").via);
  CHECK(jumped.spec->hosts.at("inner").via->name == "b1");
}
