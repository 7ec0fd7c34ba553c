// dns_record against the lab's real BIND 9 (RFC 2136 + TSIG) and PowerDNS (RFC 2136 + TSIG):
// create, TTL lowered, values switched, converged; a wrong key is refused with a clear error;
// a record changed behind reconcile's back since the plan makes the update fail untouched; many
// changes go in UPDATEs of 16 KiB, pipelined.
#include <doctest/doctest.h>

#include <cstdio>
#include <memory>
#include <optional>

#include "providers/dns/dns_wire.h"
#include "tests/support/lab_env.h"
#include "tests/support/test_world.h"

using namespace reconcile;

namespace {

struct Dns {
  std::map<std::string, std::string> env = LabEnv();
  std::string server, tsig_name, secret;

  bool api = false;  // PowerDNS through its HTTP API rather than RFC 2136

  explicit Dns(const std::string& which, bool through_api = false)
      : server(env.at(which + "_SERVER")),
        tsig_name(env.at(which + "_TSIG_NAME")),
        secret(env.at(which + "_TSIG_SECRET")),
        api(through_api) {}

  std::string Spec(const std::string& name, const std::string& body, const std::string& key = "") const {
    std::string provider = api ? "kind = \"powerdns\"\napi_url = \"" + env.at("POWERDNS_API_URL") + "\"\napi_key = \"" +
                                     (key.empty() ? env.at("POWERDNS_API_KEY") : key) + "\"\n"
                               : "kind = \"rfc2136\"\nserver = \"" + server + "\"\ntsig_name = \"" + tsig_name +
                                     "\"\ntsig_secret = \"" + (key.empty() ? secret : key) + "\"\n";
    return "version = 1\nname = \"dns\"\n[provider.dns.lab]\n" + provider + "[dns_record." + name +
           "]\nprovider = \"dns.lab\"\nzone = \"example.test.\"\nname = \"" + name + "\"\n" + body;
  }

  std::vector<std::string> Ask(const std::string& name, const std::string& type = "A") const {
    auto s = dns::Query(*dns::ParseServer(server), name + ".example.test.", type, {});
    REQUIRE_MESSAGE(s, (s ? "" : s.error().message));
    return *s ? (**s).values : std::vector<std::string>{};
  }

  long Ttl(const std::string& name) const {
    auto s = dns::Query(*dns::ParseServer(server), name + ".example.test.", "A", {});
    return s && *s ? (**s).ttl : -1;
  }

  // What another operator (or tool) does behind reconcile's back.
  void Nsupdate(const std::string& commands) const {
    auto at = *dns::ParseServer(server);
    std::string script =
        "server " + at.host + " " + std::to_string(at.port) + "\nzone example.test.\n" + commands + "send\n";
    FILE* p = ::popen(("nsupdate -y hmac-sha256:" + tsig_name + ":" + secret).c_str(), "w");
    std::fputs(script.c_str(), p);
    REQUIRE(::pclose(p) == 0);
  }
};

// A spec planned but not applied: its first stage as the changes its provider would get, so a
// test can change the world between the plan and the update.
struct Planned {
  LoadResult load;
  std::optional<ProviderConfig> config;
  std::vector<Change> changes;
  Provider* provider = nullptr;
};

std::unique_ptr<Planned> PlanOnly(TestWorld& w, const std::string& spec) {
  auto p = std::make_unique<Planned>();
  p->load = w.Load(spec);
  REQUIRE_MESSAGE(p->load.spec, TestWorld::Errors(p->load));
  const Spec& loaded = *p->load.spec;
  DependencyGraph graph;
  REQUIRE(graph.Build(loaded, &p->load.diags));
  auto plan = MakePlan(loaded, graph, {});
  REQUIRE_MESSAGE(plan, (plan ? "" : plan.error().message));
  auto config = ResolveProvider(loaded, loaded.providers.at("dns.lab"));
  REQUIRE(config);
  p->config = std::move(*config);
  for (const Step& s : plan->stages.at(0).steps) {
    const Resource& r = loaded.resources[s.resource];
    p->provider = r.provider;
    p->changes.push_back({s.action, Target{r.address, r.schema, s.desired.attrs, nullptr, &*p->config}, s.prior, {}});
  }
  return p;
}

void Lifecycle(const Dns& d, const std::string& name) {
  TestWorld w;
  CHECK(w.PlanAndApply(d.Spec(name, "type = \"A\"\nttl = 300\nvalues = [\"192.0.2.10\"]\n")) == "");
  CHECK(d.Ask(name) == std::vector<std::string>{"192.0.2.10"});
  CHECK(d.Ttl(name) == 300);
  // The TTL lowered ahead of the switch.
  CHECK(w.PlanAndApply(d.Spec(name, "type = \"A\"\nttl = 60\nvalues = [\"192.0.2.10\"]\n")) == "");
  CHECK(d.Ttl(name) == 60);
  // The switch: new values, in any order.
  std::string switched = d.Spec(name, "type = \"A\"\nttl = 60\nvalues = [\"192.0.2.21\", \"192.0.2.20\"]\n");
  CHECK(w.PlanAndApply(switched) == "");
  CHECK(d.Ask(name) == std::vector<std::string>{"192.0.2.20", "192.0.2.21"});
  Plan again;
  CHECK(TestWorld().PlanAndApply(switched, &again) == "");
  CHECK_FALSE(again.HasChanges());
  // And gone.
  CHECK(w.PlanAndApply(d.Spec(name, "type = \"A\"\nensure = \"absent\"\n")) == "");
  CHECK(d.Ask(name).empty());
}

}  // namespace

TEST_CASE("BIND: create, lower the TTL, switch, converge, remove") { Lifecycle(Dns("BIND"), "life-bind"); }

TEST_CASE("PowerDNS over RFC 2136: create, lower the TTL, switch, converge, remove") {
  Lifecycle(Dns("POWERDNS"), "life-pdns");
}

TEST_CASE("PowerDNS through its HTTP API: create, lower the TTL, switch, converge, remove") {
  Lifecycle(Dns("POWERDNS", true), "life-api");
}

TEST_CASE("PowerDNS API: a wrong key is refused saying so; a record changed since the plan is left alone") {
  Dns d("POWERDNS", true);
  std::string error =
      TestWorld().PlanAndApply(d.Spec("apikey", "type = \"A\"\nvalues = [\"192.0.2.1\"]\n", "not-the-key"));
  CHECK(error.find("answered HTTP 401") != std::string::npos);
  CHECK(error.find("check api_key") != std::string::npos);

  TestWorld w;
  CHECK(w.PlanAndApply(d.Spec("apirace", "type = \"TXT\"\nvalues = [\"one\"]\n")) == "");
  auto planned = PlanOnly(w, d.Spec("apirace", "type = \"TXT\"\nvalues = [\"two\"]\n"));
  d.Nsupdate("update delete apirace.example.test. TXT\nupdate add apirace.example.test. 60 TXT \"theirs\"\n");
  auto done = planned->provider->Apply(planned->changes.at(0));
  REQUIRE_FALSE(done);
  CHECK(done.error().message.find("changed since the plan") != std::string::npos);
  CHECK(d.Ask("apirace", "TXT") == std::vector<std::string>{"\"theirs\""});
}

TEST_CASE("values are compared as the server means them: a relative name, a TXT text") {
  Dns d("BIND");
  std::string spec = d.Spec("alias", "type = \"CNAME\"\nvalues = [\"base\"]\n");
  CHECK(TestWorld().PlanAndApply(spec) == "");
  CHECK(d.Ask("alias", "CNAME") == std::vector<std::string>{"base.example.test."});
  Plan again;
  CHECK(TestWorld().PlanAndApply(spec, &again) == "");
  CHECK_FALSE(again.HasChanges());
  std::string txt = d.Spec("txt", "type = \"TXT\"\nvalues = [\"v=spf1 -all\", \"say \\\"hi\\\"\"]\n");
  CHECK(TestWorld().PlanAndApply(txt) == "");
  CHECK(TestWorld().PlanAndApply(txt, &again) == "");
  CHECK_FALSE(again.HasChanges());
}

TEST_CASE("MX and SRV records, and a key signed with hmac-sha512") {
  // BIND refuses in-zone MX and SRV targets that have no address record, so these point at base and ns1.
  Dns d("BIND");
  d.tsig_name = d.env.at("BIND_TSIG512_NAME");
  d.secret = d.env.at("BIND_TSIG512_SECRET");
  std::string mx = d.Spec("mail", "type = \"MX\"\nvalues = [\"10 base\", \"20 ns1.example.test.\"]\n");
  mx.replace(mx.find("tsig_secret"), 0, "tsig_algorithm = \"hmac-sha512\"\n");
  CHECK(TestWorld().PlanAndApply(mx) == "");
  CHECK(d.Ask("mail", "MX") == std::vector<std::string>{"10 base.example.test.", "20 ns1.example.test."});
  Plan again;
  CHECK(TestWorld().PlanAndApply(mx, &again) == "");
  CHECK_FALSE(again.HasChanges());
  std::string srv = d.Spec("_sip._tcp", "type = \"SRV\"\nvalues = [\"0 5 5060 base.example.test.\"]\n");
  srv.replace(srv.find("tsig_secret"), 0, "tsig_algorithm = \"hmac-sha512\"\n");
  srv.replace(srv.find("[dns_record._sip._tcp]"), 22, "[dns_record.sip]");
  CHECK(TestWorld().PlanAndApply(srv) == "");
  CHECK(d.Ask("_sip._tcp", "SRV") == std::vector<std::string>{"0 5 5060 base.example.test."});
}

TEST_CASE("a wrong TSIG secret is refused, naming the key and what to check") {
  Dns d("BIND");
  std::string error = TestWorld().PlanAndApply(
      d.Spec("wrongkey", "type = \"A\"\nvalues = [\"192.0.2.1\"]\n", "c2VjcmV0IHRoYXQgaXMgd3JvbmcgYW5kIHNob3J0Lg=="));
  CHECK(error.find("refused the TSIG key 'lab-key' (wrong secret, name or algorithm?)") != std::string::npos);
  CHECK(d.Ask("wrongkey").empty());
}

TEST_CASE("a record changed since the plan makes the update fail, and stays as the other party left it") {
  Dns d("BIND");
  TestWorld w;
  CHECK(w.PlanAndApply(d.Spec("raced", "type = \"A\"\nttl = 60\nvalues = [\"192.0.2.10\"]\n")) == "");
  auto planned = PlanOnly(w, d.Spec("raced", "type = \"A\"\nttl = 60\nvalues = [\"192.0.2.20\"]\n"));
  d.Nsupdate("update delete raced.example.test. A\nupdate add raced.example.test. 60 A 198.51.100.9\n");
  auto done = planned->provider->Apply(planned->changes.at(0));
  REQUIRE_FALSE(done);
  CHECK(done.error().message ==
        "dns_record.raced: raced.example.test. A changed since the plan (someone else "
        "updated it), so nothing was changed. Plan again to see what it holds now");
  CHECK(d.Ask("raced") == std::vector<std::string>{"198.51.100.9"});
}

namespace {

long Serial(const Dns& d) {
  auto soa = dns::Query(*dns::ParseServer(d.server), "example.test.", "SOA", {});
  REQUIRE(soa);
  REQUIRE(*soa);
  std::string v = (**soa).values.at(0);  // "mname rname SERIAL refresh …"
  std::size_t a = v.find(' '), b = v.find(' ', a + 1);
  return std::stol(v.substr(b + 1));
}

}  // namespace

TEST_CASE("changes to one zone go in one UPDATE; a record changed meanwhile fails alone") {
  Dns d("BIND");
  TestWorld w;
  std::string spec = "version = 1\nname = \"dns\"\n[provider.dns.lab]\nkind = \"rfc2136\"\nserver = \"" + d.server +
                     "\"\ntsig_name = \"" + d.tsig_name + "\"\ntsig_secret = \"" + d.secret + "\"\n";
  for (int i = 0; i < 40; ++i)
    spec += "[dns_record.b" + std::to_string(i) +
            "]\nprovider = \"dns.lab\"\nzone = \"example.test\"\nname = \"batch-" + std::to_string(i) +
            "\"\ntype = \"A\"\nttl = 60\nvalues = [\"192.0.2." + std::to_string(i + 1) + "\"]\n";
  auto planned = PlanOnly(w, spec);
  REQUIRE(planned->changes.size() == 40);
  // Someone creates batch-7 between the plan and the update.
  d.Nsupdate("update add batch-7.example.test. 60 A 198.51.100.7\n");
  long before = Serial(d);
  auto results = planned->provider->ApplyBatch(planned->changes);
  REQUIRE(results.size() == 40);
  for (std::size_t i = 0; i < 40; ++i) {
    if (i == 7) {
      REQUIRE_FALSE(results[i]);
      CHECK(results[i].error().message.find("changed since the plan") != std::string::npos);
    } else {
      CHECK_MESSAGE(results[i], (results[i] ? "" : results[i].error().message));
    }
  }
  // The refused message changed nothing; the one sent again carried the other 39.
  CHECK(Serial(d) == before + 1);
  CHECK(d.Ask("batch-7") == std::vector<std::string>{"198.51.100.7"});
  CHECK(d.Ask("batch-39") == std::vector<std::string>{"192.0.2.40"});
}

TEST_CASE("1,000 changes go in UPDATEs of 16 KiB pipelined on one connection; a record changed meanwhile fails alone") {
  Dns d("BIND");
  // n1 … nN in example.test, at 10.NET.x.y; absent without a NET.
  auto spec = [&](int n, const std::string& net) {
    std::string s = "version = 1\nname = \"dns\"\n[provider.dns.lab]\nkind = \"rfc2136\"\nserver = \"" + d.server +
                    "\"\ntsig_name = \"" + d.tsig_name + "\"\ntsig_secret = \"" + d.secret + "\"\n";
    for (int i = 1; i <= n; ++i) {
      s += "[dns_record.n" + std::to_string(i) + "]\nprovider = \"dns.lab\"\nzone = \"example.test.\"\nname = \"n" +
           std::to_string(i) + "\"\ntype = \"A\"\n";
      s += net.empty() ? "ensure = \"absent\"\n"
                       : "ttl = 60\nvalues = [\"10." + net + "." + std::to_string(i / 256) + "." +
                             std::to_string(i % 256) + "\"]\n";
    }
    return s;
  };
  // How many messages the changes fill, kUpdateBudget bytes each by UpdateSizeBound, in order.
  auto messages = [](const Planned& p) {
    std::size_t count = 0, size = 0;
    for (const Change& c : p.changes) {
      dns::RRsetChange rc;
      std::string owner = StringAttr(c.target.desired, "name") + ".example.test.";
      if (c.prior.exists) rc.before = dns::RRset{owner, "A", 60, ListAttr(c.prior.attrs, "values"), std::nullopt};
      if (c.action != Action::kDelete)
        rc.after = dns::RRset{owner, "A", 60, ListAttr(c.target.desired, "values"), std::nullopt};
      std::size_t n = dns::UpdateSizeBound(rc, "example.test.");
      if (count == 0 || size + n > dns::kUpdateBudget) {
        ++count;
        size = 0;
      }
      size += n;
    }
    return count;
  };
  // Applies the spec's changes as the executor hands them over (all at once); checks that one
  // serial went by for each message (each one UPDATE, all applied) and that they were several.
  auto apply = [&](const std::string& text, std::size_t count, const std::string& refused = "") {
    TestWorld w;
    auto planned = PlanOnly(w, text);
    REQUIRE(planned->changes.size() == count);
    if (!refused.empty())  // someone changes it between the plan and the update
      d.Nsupdate("update delete " + refused + ".example.test. A\nupdate add " + refused +
                 ".example.test. 60 A 198.51.100.5\n");
    long before = Serial(d);
    auto results = planned->provider->ApplyBatch(planned->changes);
    REQUIRE(results.size() == count);
    for (std::size_t i = 0; i < count; ++i) {
      if (planned->changes[i].target.address == "dns_record." + refused) {
        REQUIRE_FALSE(results[i]);
        CHECK(results[i].error().message.find("changed since the plan") != std::string::npos);
      } else {
        REQUIRE_MESSAGE(results[i], (results[i] ? "" : results[i].error().message));
      }
    }
    // A refused message changes nothing; the one sent again without the changed record does.
    CHECK(Serial(d) - before == static_cast<long>(messages(*planned)));
    CHECK(messages(*planned) >= 3);
  };
  apply(spec(1000, "1"), 1000);
  CHECK(d.Ask("n1000") == std::vector<std::string>{"10.1.3.232"});
  // Each changed (a prerequisite, a delete, an add: the benchmark's case), but n500 changed by
  // someone else since the plan.
  apply(spec(1000, "2"), 1000, "n500");
  CHECK(d.Ask("n1") == std::vector<std::string>{"10.2.0.1"});
  CHECK(d.Ask("n500") == std::vector<std::string>{"198.51.100.5"});
  CHECK(d.Ask("n1000") == std::vector<std::string>{"10.2.3.232"});
  apply(spec(1500, "3"), 1500);  // 1,000 changed, 500 made
  CHECK(d.Ask("n500") == std::vector<std::string>{"10.3.1.244"});
  CHECK(d.Ask("n1500") == std::vector<std::string>{"10.3.5.220"});
  apply(spec(1500, ""), 1500);
  CHECK(d.Ask("n1").empty());
  CHECK(d.Ask("n1500").empty());
}

TEST_CASE("changing more than 30% of a zone of 10+ record sets needs --force; the limit is configurable") {
  Dns d("BIND");
  auto spec = [&](const std::string& value, int changed, const std::string& extra) {
    std::string s = "version = 1\nname = \"dns\"\n[provider.dns.lab]\nkind = \"rfc2136\"\nserver = \"" + d.server +
                    "\"\ntsig_name = \"" + d.tsig_name + "\"\ntsig_secret = \"" + d.secret + "\"\n" + extra;
    for (int i = 0; i < 12; ++i)
      s += "[dns_record.t" + std::to_string(i) + "]\nprovider = \"dns.lab\"\nzone = \"bulk.test.\"\nname = \"t" +
           std::to_string(i) + "\"\ntype = \"A\"\nttl = 60\nvalues = [\"" + (i < changed ? value : "192.0.2.1") +
           "\"]\n";
    return s;
  };
  auto guards = [&](const std::string& text) {
    TestWorld w;
    LoadResult load = w.Load(text);
    REQUIRE_MESSAGE(load.spec, TestWorld::Errors(load));
    DependencyGraph graph;
    REQUIRE(graph.Build(*load.spec, &load.diags));
    auto plan = MakePlan(*load.spec, graph, {});
    REQUIRE_MESSAGE(plan, (plan ? "" : plan.error().message));
    return plan->stages.at(0).guards;
  };
  // Creating 12 (the zone had 4 record sets) is not a change to what exists.
  CHECK(guards(spec("192.0.2.1", 0, "")).empty());
  CHECK(TestWorld().PlanAndApply(spec("192.0.2.1", 0, "")) == "");
  // Now 16 record sets: 4 changed is 25%, 5 is 31%.
  CHECK(guards(spec("192.0.2.99", 4, "")).empty());
  auto refused = guards(spec("192.0.2.99", 5, ""));
  REQUIRE(refused.size() == 1);
  CHECK(refused[0] ==
        "zone bulk.test. (provider.dns.lab): 5 of its 16 record sets would change or go (31%), more "
        "than 30% at once; max_change_percent on the provider sets the limit");
  CHECK(guards(spec("192.0.2.99", 5, "max_change_percent = 50\n")).empty());
}
