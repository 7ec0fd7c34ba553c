#include "providers/dns/zone_backend.h"
#include "providers/dns/route53_backend.h"
#include "providers/http/http_client.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace reconcile::dns {

namespace {

class Rfc2136 : public ZoneBackend {
 public:
  Rfc2136(Server server, Tsig tsig) : server_(std::move(server)), tsig_(std::move(tsig)) {}
  Result<std::optional<Zone>> ReadZone(const std::string& zone) override { return Transfer(server_, zone, tsig_); }
  Result<std::optional<RRset>> ReadOne(const std::string&, const std::string& owner, const std::string& type) override {
    return Query(server_, owner, type, tsig_);
  }
  Result<UpdateOutcome> Update(const std::string& zone, const std::vector<RRsetChange>& changes) override {
    return dns::Update(server_, zone, tsig_, changes);
  }
  // Pipelined on one connection: BIND applies one message while the next is built.
  std::vector<Result<UpdateOutcome>> UpdateAll(const std::string& zone,
                                               const std::vector<std::vector<RRsetChange>>& messages) override {
    return dns::UpdateAll(server_, zone, tsig_, messages);
  }
  // Messages of kUpdateBudget bytes on the wire (at most, by a bound on each change's).
  std::size_t MessageBudget() const override { return kUpdateBudget; }
  std::size_t ChangeSize(const RRsetChange& change, const std::string& zone) const override {
    return UpdateSizeBound(change, zone);
  }

 private:
  Server server_;
  Tsig tsig_;
};

struct HttpReply {
  long status = 0;
  std::string body;
};

// The PowerDNS HTTP API has no prerequisites: the zone is read again just before the
// PATCH and each RRset compared with what was probed (one PATCH is applied atomically).
class PowerDns : public ZoneBackend {
 public:
  PowerDns(std::string url, std::string key, std::string server_id)
      : url_(std::move(url)),
        key_(std::move(key)),
        server_id_(std::move(server_id)) {
    while (!url_.empty() && url_.back() == '/') url_.pop_back();
  }

  Result<std::optional<Zone>> ReadZone(const std::string& zone) override {
    auto reply = Call("GET", ZoneUrl(zone), "");
    if (!reply) return reply.error();
    if (Status s = Check(*reply, "read zone " + zone); !s) return Error{s.message()};
    auto parsed = ParsePowerDnsZone(reply->body);
    if (!parsed) return Error{"the PowerDNS API at " + url_ + ": " + parsed.error().message};
    return std::optional<Zone>(std::move(*parsed));
  }

  Result<std::optional<RRset>> ReadOne(const std::string& zone, const std::string& owner,
                                       const std::string& type) override {
    auto z = ReadZone(zone);
    if (!z) return z.error();
    auto it = (*z)->find({owner, type});
    return it == (*z)->end() ? std::optional<RRset>() : std::optional<RRset>(it->second);
  }

  Result<UpdateOutcome> Update(const std::string& zone, const std::vector<RRsetChange>& changes) override {
    auto now = ReadZone(zone);
    if (!now) return now.error();
    nlohmann::json rrsets = nlohmann::json::array();
    for (const RRsetChange& c : changes) {
      const RRset& any = c.before ? *c.before : *c.after;
      auto it = (*now)->find({any.owner, any.type});
      bool exists = it != (*now)->end();
      if (exists != c.before.has_value()) return UpdateOutcome::kChangedSincePlan;
      if (exists) {
        auto before = CanonicalSet(c.before->type, c.before->values, zone);
        if (!before) return before.error();
        if (*before != it->second.values) return UpdateOutcome::kChangedSincePlan;
      }
      nlohmann::json set = {{"name", any.owner}, {"type", any.type}};
      if (c.after) {
        auto values = CanonicalSet(c.after->type, c.after->values, zone);
        if (!values) return values.error();
        set["changetype"] = "REPLACE";
        set["ttl"] = c.after->ttl;
        set["records"] = nlohmann::json::array();
        for (const std::string& v : *values) set["records"].push_back({{"content", v}, {"disabled", false}});
      } else {
        set["changetype"] = "DELETE";
      }
      rrsets.push_back(std::move(set));
    }
    auto reply = Call("PATCH", ZoneUrl(zone), nlohmann::json{{"rrsets", rrsets}}.dump());
    if (!reply) return reply.error();
    if (Status s = Check(*reply, "update zone " + zone); !s) return Error{s.message()};
    return UpdateOutcome::kDone;
  }

 private:
  std::string ZoneUrl(const std::string& zone) const {
    return url_ + "/api/v1/servers/" + server_id_ + "/zones/" + AbsoluteZone(zone);
  }

  Status Check(const HttpReply& r, const std::string& what) const {
    if (r.status >= 200 && r.status < 300) return Status::Ok();
    std::string why;
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    if (j.is_object() && j.contains("error") && j["error"].is_string()) why = j["error"].get<std::string>();
    else why = r.body.substr(0, 300);
    std::string hint;
    if (r.status == 401) hint = "; the API refused the key: check api_key against the server's api-key";
    else if (r.status == 404) hint = "; is the zone (or server_id) on this server?";
    return Error{"the PowerDNS API at " + url_ + " answered HTTP " + std::to_string(r.status) + " to " + what +
                 (why.empty() ? "" : ": " + why) + hint};
  }

  Result<HttpReply> Call(const std::string& method, const std::string& url, const std::string& body) const {
    http::Options o;
    o.timeout = std::chrono::seconds(30);
    http::Client client(std::move(o));
    http::Request request;
    request.method = method;
    request.url = url;
    request.headers = {"X-API-Key: " + key_, "Content-Type: application/json"};
    if (!body.empty()) request.body = std::make_shared<const std::string>(body);
    http::Response r = client.Do(request);
    if (r.not_sent) return Error{"nothing was sent to the PowerDNS API: " + r.transport_error};
    if (!r.transport_error.empty())
      return Error{"cannot reach the PowerDNS API at " + url_ + ": " + r.transport_error, ErrorCode::kUnreachable};
    return HttpReply{r.status, std::move(r.body)};
  }

  std::string url_, key_, server_id_;
};

}  // namespace

std::vector<Result<UpdateOutcome>> ZoneBackend::UpdateAll(const std::string& zone,
                                                          const std::vector<std::vector<RRsetChange>>& messages) {
  std::vector<Result<UpdateOutcome>> out;
  for (const auto& changes : messages) out.push_back(Update(zone, changes));
  return out;
}

std::size_t ZoneBackend::ChangeSize(const RRsetChange& c, const std::string&) const {
  const RRset& any = c.before ? *c.before : *c.after;
  std::size_t rrs = 1 + (c.before ? c.before->values.size() : 0) + (c.after ? c.after->values.size() : 0);
  std::size_t data = 0;
  for (const auto* set : {&c.before, &c.after})
    if (*set)
      for (const std::string& v : (*set)->values) data += v.size() + 2;
  return rrs * (any.owner.size() + 12) + data;
}

Result<Zone> ParsePowerDnsZone(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (!j.is_object() || !j.contains("rrsets") || !j["rrsets"].is_array()) return Error{"the zone's JSON has no rrsets"};
  Zone zone;
  for (const auto& set : j["rrsets"]) {
    RRset rr;
    rr.owner = set.value("name", "");
    std::transform(rr.owner.begin(), rr.owner.end(), rr.owner.begin(), [](unsigned char c) { return std::tolower(c); });
    rr.type = set.value("type", "");
    rr.ttl = set.value("ttl", 0L);
    if (set.contains("records") && set["records"].is_array())
      for (const auto& r : set["records"])
        if (!r.value("disabled", false)) rr.values.push_back(r.value("content", ""));
    if (rr.values.empty()) continue;
    std::sort(rr.values.begin(), rr.values.end());
    zone[{rr.owner, rr.type}] = std::move(rr);
  }
  return zone;
}

Result<std::unique_ptr<ZoneBackend>> BackendFor(const ProviderConfig& config,
                                                const std::map<std::string, const ProviderConfig*>& named) {
  const AttrMap& a = config.attrs;
  std::string kind = StringAttr(a, "kind");
  std::string where = "provider." + config.name;
  if (kind == "route53") {
    for (const auto& [name, other] : named)
      if (other && other->kind == "aws") return NewRoute53Backend(config, *other);
    return Error{where +
                     ": kind = \"route53\" needs aws = \"NAME\", a [provider.aws.NAME] with the account's "
                     "credentials",
                 ErrorCode::kInvalid};
  }
  if (kind == "powerdns") {
    std::string url = StringAttr(a, "api_url"), key = StringAttr(a, "api_key");
    if (url.empty() || key.empty()) return Error{where + ": kind = \"powerdns\" needs api_url and api_key"};
    return std::unique_ptr<ZoneBackend>(new PowerDns(url, key, StringAttr(a, "server_id")));
  }
  auto server = ParseServer(StringAttr(a, "server"));
  if (!server)
    return Error{where + ": kind = \"rfc2136\" needs server = \"host:port\" (" + server.error().message + ")"};
  Tsig tsig;
  tsig.name = StringAttr(a, "tsig_name");
  tsig.algorithm = StringAttr(a, "tsig_algorithm");
  tsig.secret = StringAttr(a, "tsig_secret");
  if (!tsig.name.empty() && tsig.secret.empty()) return Error{where + ": tsig_name is set but tsig_secret is not"};
  return std::unique_ptr<ZoneBackend>(new Rfc2136(*server, tsig));
}

}  // namespace reconcile::dns
