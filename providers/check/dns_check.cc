#include "providers/check/dns_check.h"

#include <netdb.h>

#include <algorithm>

#include "providers/dns/dns_wire.h"

namespace reconcile {

namespace {

std::string Join(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& v : values) out += (out.empty() ? "" : ", ") + v;
  return out.empty() ? "nothing" : out;
}

// The zone's name servers, from its primary: NS names, then their addresses (in-zone glue
// from the same server first, this machine's resolver otherwise).
Result<std::vector<dns::Server>> NameServers(const std::string& zone, const dns::Server& primary, int port) {
  auto ns = dns::Query(primary, dns::AbsoluteZone(zone), "NS", {});
  if (!ns) return Error{"cannot read the NS set of " + zone + ": " + ns.error().message};
  if (!*ns) return Error{primary.Describe() + " has no NS records for " + zone};
  std::vector<dns::Server> out;
  for (const std::string& name : (**ns).values) {
    std::vector<std::string> addresses;
    for (const char* type : {"A", "AAAA"}) {
      auto a = dns::Query(primary, name, type, {});
      if (a && *a) addresses.insert(addresses.end(), (**a).values.begin(), (**a).values.end());
    }
    if (addresses.empty()) {
      addrinfo hints{};
      hints.ai_socktype = SOCK_DGRAM;
      addrinfo* res = nullptr;
      if (::getaddrinfo(name.c_str(), nullptr, &hints, &res) == 0) {
        char ip[NI_MAXHOST];
        if (::getnameinfo(res->ai_addr, res->ai_addrlen, ip, sizeof ip, nullptr, 0, NI_NUMERICHOST) == 0)
          addresses.push_back(ip);
        ::freeaddrinfo(res);
      }
    }
    if (addresses.empty()) return Error{"the name server " + name + " of " + zone + " has no address"};
    for (const std::string& a : addresses) {
      // Two NS names on one address are one server: counted twice, "2 of 2 agree" would lie.
      dns::Server s{a, port};
      bool seen =
          std::any_of(out.begin(), out.end(), [&](const dns::Server& o) { return o.Describe() == s.Describe(); });
      if (!seen) out.push_back(s);
    }
  }
  return out;
}

}  // namespace

Result<CheckResult> CheckDns(const AttrMap& attrs) {
  std::string zone = StringAttr(attrs, "zone");
  const std::string type = std::get<std::string>(attrs.at("type"));
  std::string name = StringAttr(attrs, "name");
  if (name.empty()) return Error{"a dns check needs name = \"www.example.edu.\" (or relative to zone)"};
  std::string owner = zone.empty() ? dns::AbsoluteZone(name) : dns::OwnerName(name, zone);

  std::vector<dns::Server> servers;
  for (const std::string& s : ListAttr(attrs, "servers")) {
    auto parsed = dns::ParseServer(s);
    if (!parsed) return Error{"servers: " + parsed.error().message};
    servers.push_back(*parsed);
  }
  if (servers.empty()) {
    std::string primary = StringAttr(attrs, "server");
    if (zone.empty() || primary.empty())
      return Error{
          "a dns check needs servers = [\"host:port\", …], or zone and server (the zone's primary, whose NS "
          "set names the servers to ask)"};
    auto p = dns::ParseServer(primary);
    if (!p) return Error{"server: " + p.error().message};
    auto found = NameServers(zone, *p, static_cast<int>(std::get<std::int64_t>(attrs.at("ns_port"))));
    if (!found) return CheckResult{false, found.error().message};  // may come right: keep polling
    servers = *found;
  }

  auto wanted = dns::CanonicalSet(type, ListAttr(attrs, "values"), zone.empty() ? owner : zone);
  if (!wanted) return Error{"values: " + wanted.error().message};
  const std::vector<std::string>& want = *wanted;

  std::string disagree;
  std::size_t agree = 0;
  for (const dns::Server& s : servers) {
    auto got = dns::Query(s, owner, type, {});
    if (!got) {
      disagree += (disagree.empty() ? "" : "; ") + got.error().message;
      continue;
    }
    std::vector<std::string> values = *got ? (**got).values : std::vector<std::string>{};
    if (values == want) {
      ++agree;
      continue;
    }
    disagree +=
        (disagree.empty() ? "" : "; ") + s.Describe() + " answers " + Join(values) + " (want " + Join(want) + ")";
  }
  std::string total = std::to_string(servers.size());
  if (disagree.empty())
    return CheckResult{
        true, (servers.size() == 1 ? std::string("its one server answers ") : "all " + total + " servers answer ") +
                  owner + " " + type + " " + Join(want)};
  return CheckResult{false, disagree + "; " + std::to_string(agree) + " of " + total + " servers agree"};
}

}  // namespace reconcile
