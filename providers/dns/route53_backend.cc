#include "providers/dns/route53_backend.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "providers/aws/aws_api.h"
#include "providers/dns/route53_xml.h"

namespace reconcile::dns {

namespace {

using route53::kApi;

// AWS: a change is INSYNC on every Route 53 server within about 60 seconds.
constexpr auto kInsyncTimeout = std::chrono::minutes(5);
// Route 53 takes at most 32,000 characters of values and 1,000 records in one request: kept
// well under, by the rough size of each change (ZoneBackend::ChangeSize).
constexpr std::size_t kRoute53Budget = 20 * 1024;

// A set as reconcile compares it: owner normalised, values canonical and sorted (a value the
// zone-file parser cannot read, moto's SOA, kept as listed).
RRset Normalized(const RRset& listed, const std::string& zone) {
  RRset out = listed;
  out.owner = route53::NormalName(listed.owner);
  if (auto values = CanonicalSet(listed.type, listed.values, zone)) {
    out.values = std::move(*values);
  } else {
    std::sort(out.values.begin(), out.values.end());
  }
  return out;
}

// The set as Route 53 is asked to create it: values canonical (names absolute), the alias's
// target absolute.
Result<RRset> ForRoute53(const RRset& set, const std::string& zone) {
  RRset out = set;
  if (set.alias) {
    out.alias->dns_name = route53::NormalName(set.alias->dns_name);
    out.values.clear();
    out.ttl = 0;
    return out;
  }
  auto values = CanonicalSet(set.type, set.values, zone);
  if (!values) return values.error();
  out.values = std::move(*values);
  return out;
}

// Whether the set Route 53 holds now is the one that was probed.
bool AsProbed(const RRset& now, const RRset& probed, const std::string& zone) {
  if (now.alias || probed.alias) {
    if (!now.alias || !probed.alias) return false;
    AliasTarget p = *probed.alias;
    p.dns_name = route53::NormalName(p.dns_name);
    return *now.alias == p;
  }
  auto values = CanonicalSet(probed.type, probed.values, zone);
  return values && *values == now.values && now.ttl == probed.ttl;
}

class Route53 : public ZoneBackend {
 public:
  Route53(aws::Account account, std::string zone_id, std::string where, bool test_server)
      : test_server_(test_server),
        client_(std::move(account)),
        zone_id_(std::move(zone_id)),
        where_(std::move(where)) {}

  Result<std::optional<Zone>> ReadZone(const std::string& zone) override {
    auto listed = List(zone);
    if (!listed) return listed.error();
    Zone out;
    for (const auto& [key, set] : listed->sets) out[key] = Normalized(set, AbsoluteZone(zone));
    return std::optional<Zone>(std::move(out));
  }

  Result<std::optional<RRset>> ReadOne(const std::string& zone, const std::string& owner,
                                       const std::string& type) override {
    auto id = ZoneId(zone);
    if (!id) return id.error();
    auto xml = client_.Call("GET", std::string(kApi) + "/hostedzone/" + *id + "/rrset",
                            {{"maxitems", "1"}, {"name", owner}, {"type", type}});
    if (!xml) return Error{where_ + ": " + xml.error().message, xml.error().code};
    auto page = route53::ParseRecordPage(*xml);
    if (!page) return Error{where_ + ": " + page.error().message};
    for (std::size_t i = 0; i < page->sets.size(); ++i)
      if (!page->routed[i] && route53::NormalName(page->sets[i].owner) == owner && page->sets[i].type == type)
        return std::optional<RRset>(Normalized(page->sets[i], AbsoluteZone(zone)));
    return std::optional<RRset>();
  }

  // The zone is read again first: a set no longer as probed is refused here (moto, unlike
  // Route 53, takes a DELETE of an older version of a set), and each DELETE repeats the set as
  // Route 53 lists it now, so one changed in between fails the whole batch on Route 53's side.
  Result<UpdateOutcome> Update(const std::string& zone, const std::vector<RRsetChange>& changes) override {
    const std::string origin = AbsoluteZone(zone);
    auto listed = List(zone);
    if (!listed) return listed.error();
    std::vector<route53::Change> batch;
    for (const RRsetChange& c : changes) {
      const RRset& any = c.before ? *c.before : *c.after;
      RRsetKey key{route53::NormalName(any.owner), any.type};
      if (listed->routed.count(key))
        return Error{where_ + ": " + key.first + " " + key.second +
                     " has Route 53 routing-policy record sets (with a SetIdentifier); reconcile changes only "
                     "simple ones"};
      auto it = listed->sets.find(key);
      if ((it != listed->sets.end()) != c.before.has_value()) return UpdateOutcome::kChangedSincePlan;
      if (c.before) {
        if (!AsProbed(Normalized(it->second, origin), *c.before, origin)) return UpdateOutcome::kChangedSincePlan;
        batch.push_back({"DELETE", it->second});
      }
      if (c.after) {
        auto set = ForRoute53(*c.after, origin);
        if (!set) return Error{where_ + ": " + set.error().message};
        batch.push_back({"CREATE", std::move(*set)});
      }
    }
    aws::ApiError refused;
    auto post = [&] {
      return client_.Call("POST", std::string(kApi) + "/hostedzone/" + listed->id + "/rrset", {},
                          route53::ChangeBatchXml(batch, "reconcile"), &refused);
    };
    auto xml = post();
    // moto's refusal of a set put back as it once was (route53::UpsertReplacements), or made
    // again after a delete: a CREATE of a set still absent now is one. Only behind an
    // `endpoint` (a test server): on Route 53 the refusal is someone else's record, kept.
    if (!xml && test_server_ && refused.message.find("Tried to create") != std::string::npos) {
      bool retry = route53::UpsertReplacements(&batch);
      if (auto again = List(zone)) {
        for (route53::Change& c : batch)
          if (c.action == "CREATE" && !again->sets.count({route53::NormalName(c.set.owner), c.set.type}))
            c.action = "UPSERT", retry = true;
      }
      if (retry) {
        refused = {};
        xml = post();
      }
    }
    if (!xml) {
      if (route53::IsChangedSincePlan(refused.code, refused.message)) return UpdateOutcome::kChangedSincePlan;
      return Error{where_ + ": " + xml.error().message, xml.error().code};
    }
    auto info = route53::ParseChangeInfo(*xml);
    if (!info) return Error{where_ + ": " + info.error().message};
    if (Status s = WaitInsync(*info); !s) return Error{s.message()};
    return UpdateOutcome::kDone;
  }

  std::size_t MessageBudget() const override { return kRoute53Budget; }

 private:
  bool test_server_;  // behind an `endpoint`: moto's quirks are worked around
  struct Listing {
    std::string id;
    std::map<RRsetKey, RRset> sets;  // as listed
    std::set<RRsetKey> routed;       // names and types with SetIdentifier sets: not reconcile's
  };

  // The hosted zone's id: zone_id (checked to be this zone), or the one zone of that name.
  Result<std::string> ZoneId(const std::string& zone) {
    std::string name = route53::NormalName(AbsoluteZone(zone));
    if (auto it = ids_.find(name); it != ids_.end()) return it->second;
    std::string id;
    if (!zone_id_.empty()) {
      id = zone_id_.substr(zone_id_.rfind('/') == std::string::npos ? 0 : zone_id_.rfind('/') + 1);
      auto xml = client_.Call("GET", std::string(kApi) + "/hostedzone/" + http::UriEncode(id, false));
      if (!xml) return Error{where_ + ": " + xml.error().message, xml.error().code};
      auto named = route53::ParseHostedZoneName(*xml);
      if (!named) return Error{where_ + ": " + named.error().message};
      if (*named != name)
        return Error{where_ + ": zone_id " + id + " is the hosted zone " + *named + ", not " + name,
                     ErrorCode::kInvalid};
    } else {
      auto xml =
          client_.Call("GET", std::string(kApi) + "/hostedzonesbyname", {{"dnsname", name}, {"maxitems", "100"}});
      if (!xml) return Error{where_ + ": " + xml.error().message, xml.error().code};
      auto ids = route53::ParseZonesNamed(*xml, name);
      if (!ids) return Error{where_ + ": " + ids.error().message};
      if (ids->empty())
        return Error{where_ + ": the account has no hosted zone named " + name + "; create it, or give zone_id",
                     ErrorCode::kNotFound};
      if (ids->size() > 1) {
        std::string all;
        for (const std::string& i : *ids) all += (all.empty() ? "" : ", ") + i;
        return Error{where_ + ": " + std::to_string(ids->size()) + " hosted zones are named " + name + " (" + all +
                         "; a public and a private one?): say which with zone_id",
                     ErrorCode::kInvalid};
      }
      id = (*ids)[0];
    }
    ids_[name] = id;
    return id;
  }

  // Every set of the zone, page after page.
  Result<Listing> List(const std::string& zone) {
    auto id = ZoneId(zone);
    if (!id) return id.error();
    Listing out;
    out.id = *id;
    aws::Params next;
    for (;;) {
      auto xml = client_.Call("GET", std::string(kApi) + "/hostedzone/" + *id + "/rrset", next);
      if (!xml) return Error{where_ + ": " + xml.error().message, xml.error().code};
      auto page = route53::ParseRecordPage(*xml);
      if (!page) return Error{where_ + ": " + page.error().message};
      for (std::size_t i = 0; i < page->sets.size(); ++i) {
        RRsetKey key{route53::NormalName(page->sets[i].owner), page->sets[i].type};
        if (page->routed[i]) out.routed.insert(key);
        else out.sets[key] = std::move(page->sets[i]);
      }
      if (!page->truncated) return out;
      aws::Params after = {{"name", page->next_name}, {"type", page->next_type}};
      if (!page->next_identifier.empty()) after.push_back({"identifier", page->next_identifier});
      if (after == next) return Error{where_ + ": Route 53 listed the same page of " + zone + " twice"};
      next = std::move(after);
    }
  }

  Status WaitInsync(route53::ChangeInfo info) {
    auto deadline = std::chrono::steady_clock::now() + kInsyncTimeout;
    auto pause = std::chrono::seconds(1);
    while (info.status != "INSYNC") {
      if (std::chrono::steady_clock::now() + pause > deadline)
        return Error{where_ + ": Route 53 took the change " + info.id + " but it was not INSYNC after 5 minutes (" +
                     info.status + "); it will still reach every server: plan again to see it"};
      std::this_thread::sleep_for(pause);
      pause = std::min(pause * 2, std::chrono::seconds(10));
      auto xml = client_.Call("GET", std::string(kApi) + "/change/" + http::UriEncode(info.id, false));
      if (!xml) return Error{where_ + ": " + xml.error().message, xml.error().code};
      auto now = route53::ParseChangeInfo(*xml);
      if (!now) return Error{where_ + ": " + now.error().message};
      info = *now;
    }
    return Status::Ok();
  }

  aws::RestClient client_;
  std::string zone_id_;
  std::string where_;
  std::map<std::string, std::string> ids_;  // zone → hosted zone id
};

}  // namespace

Result<std::unique_ptr<ZoneBackend>> NewRoute53Backend(const ProviderConfig& dns, const ProviderConfig& aws) {
  auto account = aws::AccountFor(aws, "route53");
  if (!account) return account.error();
  return std::unique_ptr<ZoneBackend>(new Route53(std::move(*account), StringAttr(dns.attrs, "zone_id"),
                                                  "provider." + dns.name, !StringAttr(aws.attrs, "endpoint").empty()));
}

}  // namespace reconcile::dns
