#include "providers/dns/dns_record_provider.h"

#include <algorithm>

#include "providers/dns/dns_wire.h"
#include "providers/dns/zone_backend.h"

namespace reconcile {

namespace {

// The TTL of a record set the spec gives none: when made, and when its values are replaced.
constexpr std::int64_t kDefaultTtl = 3600;
const std::vector<std::string> kTypes = {"A", "AAAA", "CNAME", "TXT", "MX", "SRV", "NS", "PTR", "CAA"};

// The loader's checks of a record's attributes (AttrSchema::check).
std::string NameCheck(const std::string& v, const AttrMap&) { return dns::NameProblem(v); }
std::string ValueCheck(const std::string& v, const AttrMap& r) { return dns::ValueProblem(StringAttr(r, "type"), v); }
std::string TtlCheck(const std::string& v, const AttrMap&) {
  // Later stages wait out an old TTL: a value past DNS's own range would overflow that wait.
  if (v.empty() || v[0] == '-' || v.size() > 10 || std::stoll(v) > 2147483647)
    return "is out of range; a TTL is 0 to 2147483647 seconds (RFC 2181)";
  return "";
}

// An alias record's attributes are Route 53's (alias_target, alias_zone_id,
// evaluate_target_health): the loader checks they come together and without values or ttl.
bool IsAlias(const AttrMap& attrs) { return attrs.count("alias_target") > 0; }

std::string AliasCheck(const std::string& v, const AttrMap& r) {
  if (r.count("values") || r.count("ttl"))
    return "makes an alias record, which has no values or ttl of its own (Route 53 answers with the target's); "
           "leave them out";
  if (!r.count("alias_zone_id")) return "needs alias_zone_id, the hosted zone of the target";
  return dns::NameProblem(v);
}
std::string AliasZoneCheck(const std::string&, const AttrMap& r) {
  return r.count("alias_target") ? "" : "goes with alias_target (the name the alias answers for)";
}

// Alias records are Route 53's alone: refused before anything is read or sent elsewhere.
Status KindAllows(const Target& t) {
  if (!t.provider || StringAttr(t.provider->attrs, "kind") == "route53") return Status::Ok();
  for (const char* attr : {"alias_target", "alias_zone_id", "evaluate_target_health"})
    if (t.desired.count(attr))
      return Error{t.address + ": " + attr + " is for Route 53's alias records, and provider." + t.provider->name +
                       " is kind = \"" + StringAttr(t.provider->attrs, "kind") + "\"",
                   ErrorCode::kInvalid};
  return Status::Ok();
}

Result<std::unique_ptr<dns::ZoneBackend>> BackendOf(const Target& t) {
  if (!t.provider) return Error{t.address + " names no [provider.dns.NAME]"};
  return dns::BackendFor(*t.provider, t.providers);
}

std::string Zone(const Target& t) { return dns::AbsoluteZone(StringAttr(t.desired, "zone")); }
std::string Owner(const Target& t) {
  return dns::OwnerName(StringAttr(t.desired, "name"), StringAttr(t.desired, "zone"));
}
std::string Type(const Target& t) { return StringAttr(t.desired, "type"); }

StringList Values(const AttrMap& attrs) { return ListAttr(attrs, "values"); }

// The probed RRset in the spec's words: zone, name and type as written, and each value as
// the spec spells it when the server means the same ("mail" = "mail.example.test.").
State ToState(const Target& t, const std::optional<dns::RRset>& set) {
  State s;
  if (!set) return s;
  s.exists = true;
  s.attrs["zone"] = t.desired.at("zone");
  s.attrs["name"] = t.desired.at("name");
  s.attrs["type"] = t.desired.at("type");
  if (set->alias) {
    std::string target = set->alias->dns_name;
    std::string wanted = StringAttr(t.desired, "alias_target");
    if (!wanted.empty() && dns::AbsoluteZone(wanted) == target) target = wanted;  // as the spec spells it
    s.attrs["alias_target"] = target;
    s.attrs["alias_zone_id"] = set->alias->zone_id;
    s.attrs["evaluate_target_health"] = set->alias->evaluate_health;
    return s;
  }
  s.attrs["ttl"] = static_cast<std::int64_t>(set->ttl);
  StringList values;
  StringList wanted = Values(t.desired);
  for (const std::string& v : set->values) {
    std::string spelled = v;
    for (const std::string& w : wanted) {
      auto c = dns::CanonicalValue(set->type, w, Zone(t));
      if (c && *c == v) spelled = w;
    }
    values.push_back(spelled);
  }
  s.attrs["values"] = values;
  return s;
}

dns::AliasTarget AliasOf(const AttrMap& attrs) {
  auto health = attrs.find("evaluate_target_health");
  return {StringAttr(attrs, "alias_target"), StringAttr(attrs, "alias_zone_id"),
          health != attrs.end() && std::holds_alternative<bool>(health->second) && std::get<bool>(health->second)};
}

Result<std::optional<dns::RRset>> Desired(const Target& t) {
  if (IsAlias(t.desired)) return std::optional<dns::RRset>(dns::RRset{Owner(t), Type(t), 0, {}, AliasOf(t.desired)});
  if (t.desired.count("values") == 0) return std::optional<dns::RRset>();
  dns::RRset set{Owner(t), Type(t), kDefaultTtl, {}, std::nullopt};
  set.ttl = IntAttr(t.desired, "ttl").value_or(set.ttl);
  for (const std::string& v : Values(t.desired)) {
    auto c = dns::CanonicalValue(set.type, v, Zone(t));
    if (!c) return Error{t.address + ": " + c.error().message};
    set.values.push_back(v);
  }
  return std::optional<dns::RRset>(set);
}

std::optional<dns::RRset> Prior(const Target& t, const State& prior) {
  if (!prior.exists) return std::nullopt;
  if (IsAlias(prior.attrs)) return dns::RRset{Owner(t), Type(t), 0, {}, AliasOf(prior.attrs)};
  dns::RRset set{Owner(t), Type(t), 0, Values(prior.attrs), std::nullopt};
  set.ttl = IntAttr(prior.attrs, "ttl").value_or(0);
  return set;
}

Result<dns::RRsetChange> ChangeFor(const Change& change) {
  const Target& t = change.target;
  if (Status s = KindAllows(t); !s) return s.error();
  dns::RRsetChange c;
  c.before = Prior(t, change.prior);
  if (change.action != Action::kDelete) {
    auto after = Desired(t);
    if (!after) return after.error();
    if (!*after)
      return Error{t.address +
                   " has no values: give values = [...] (or alias_target), or ensure = \"absent\" to "
                   "remove it"};
    c.after = *after;
  }
  return c;
}

Error ChangedSincePlan(const Target& t) {
  return Error{t.address + ": " + Owner(t) + " " + Type(t) +
               " changed since the plan (someone else updated it), "
               "so nothing was changed. Plan again to see what it holds now"};
}

// Whether the set the server holds now is the one probed before the plan.
bool AsPlanned(const std::optional<dns::RRset>& now, const std::optional<dns::RRset>& planned, const Target& t) {
  if (now.has_value() != planned.has_value()) return false;
  if (!now) return true;
  if (now->alias || planned->alias) {
    if (!now->alias || !planned->alias) return false;
    dns::AliasTarget p = *planned->alias;
    p.dns_name = dns::AbsoluteZone(p.dns_name);
    return *now->alias == p;
  }
  auto values = dns::CanonicalSet(Type(t), planned->values, Zone(t));
  return values && now->values == *values && now->ttl == planned->ttl;
}

}  // namespace

std::string DnsRecordProvider::BatchKey(const Target& t) const {
  return (t.provider ? t.provider->name : "") + " " + Zone(t);
}

std::vector<Result<State>> DnsRecordProvider::ApplyBatch(const std::vector<Change>& changes) {
  std::vector<Result<State>> out(changes.size(), Error{"not applied"});
  auto backend = BackendOf(changes[0].target);
  if (!backend) return std::vector<Result<State>>(changes.size(), backend.error());
  std::string zone = Zone(changes[0].target);
  std::vector<std::optional<dns::RRsetChange>> rr(changes.size());
  for (std::size_t i = 0; i < changes.size(); ++i) {
    auto c = ChangeFor(changes[i]);
    if (c) rr[i] = *c;
    else out[i] = c.error();
  }
  // Messages filled up to the budget, handed over all at once (RFC 2136 pipelines them on one
  // connection); a message refused for a changed record is sent again, once, without the
  // records that changed, which fail alone.
  std::vector<std::size_t> sizes(changes.size(), 0);
  for (std::size_t k = 0; k < changes.size(); ++k)
    if (rr[k]) sizes[k] = (*backend)->ChangeSize(*rr[k], zone);
  std::vector<std::vector<std::size_t>> messages;
  for (std::size_t i = 0; i < changes.size();) {
    std::vector<std::size_t> message;
    std::size_t size = 0;
    for (; i < changes.size() && (message.empty() || size + sizes[i] <= (*backend)->MessageBudget()); ++i) {
      if (!rr[i]) continue;
      size += sizes[i];
      message.push_back(i);
    }
    if (!message.empty()) messages.push_back(std::move(message));
  }
  for (int attempt = 0; attempt < 2 && !messages.empty(); ++attempt) {
    std::vector<std::vector<dns::RRsetChange>> bodies;
    for (const auto& message : messages) {
      auto& body = bodies.emplace_back();
      body.reserve(message.size());
      for (std::size_t k : message) body.push_back(*rr[k]);
    }
    auto outcomes = (*backend)->UpdateAll(zone, bodies);
    std::vector<std::vector<std::size_t>> again;
    for (std::size_t m = 0; m < messages.size(); ++m) {
      const std::vector<std::size_t>& message = messages[m];
      Result<dns::UpdateOutcome> outcome = m < outcomes.size() ? outcomes[m] : Error{"the server gave no answer"};
      if (!outcome) {
        for (std::size_t k : message) out[k] = Error{changes[k].target.address + ": " + outcome.error().message};
        continue;
      }
      if (*outcome == dns::UpdateOutcome::kDone) {
        for (std::size_t k : message) out[k] = ToState(changes[k].target, rr[k]->after);
        continue;
      }
      // Which records moved? Ask for each; those still as planned go again.
      std::vector<std::size_t> still;
      for (std::size_t k : message) {
        const Target& t = changes[k].target;
        auto now = (*backend)->ReadOne(zone, Owner(t), Type(t));
        if (now && AsPlanned(*now, rr[k]->before, t)) still.push_back(k);
        // Already as the change leaves it: an UPDATE that went in, whose answer was lost and
        // which was sent again. Said done, so the journal holds it and a rollback undoes it.
        else if (now && AsPlanned(*now, rr[k]->after, t)) out[k] = ToState(t, rr[k]->after);
        else out[k] = ChangedSincePlan(t);
      }
      if (still.size() == message.size()) {
        for (std::size_t k : message) out[k] = ChangedSincePlan(changes[k].target);
        continue;
      }
      if (!still.empty()) again.push_back(std::move(still));
    }
    messages = std::move(again);
  }
  return out;
}

std::vector<std::string> DnsRecordProvider::Guard(const std::vector<Change>& changes) {
  std::map<std::string, std::pair<std::size_t, const Target*>> touched;  // batch key → existing RRsets changed
  for (const Change& c : changes) {
    auto& [count, target] = touched[BatchKey(c.target)];
    target = &c.target;
    if (c.prior.exists && (c.action == Action::kUpdate || c.action == Action::kDelete)) ++count;
  }
  std::vector<std::string> out;
  for (auto& [key, entry] : touched) {
    auto [count, t] = entry;
    std::size_t size;
    {
      std::lock_guard<std::mutex> g(mu_);
      auto it = zone_sizes_.find(key);
      if (it == zone_sizes_.end()) continue;  // not transferred: its size is unknown
      size = it->second;
    }
    // Its [provider.dns.NAME]'s, at its default when not written (ResolveProvider).
    auto max = t->provider ? IntAttr(t->provider->attrs, "max_change_percent") : std::nullopt;
    if (!max) continue;
    const std::int64_t limit = *max;
    if (size < 10 || static_cast<std::int64_t>(count * 100) <= limit * static_cast<std::int64_t>(size)) continue;
    out.push_back("zone " + Zone(*t) + " (provider." + (t->provider ? t->provider->name : std::string("?")) +
                  "): " + std::to_string(count) + " of its " + std::to_string(size) +
                  " record sets would change or go (" + std::to_string(count * 100 / size) + "%), more than " +
                  std::to_string(limit) + "% at once; max_change_percent on the provider sets the limit");
  }
  return out;
}

std::vector<TypeSchema> DnsRecordProvider::Types() const {
  return {{
      .name = "dns_record",
      .doc = "One DNS RRset: a name's records of one type in a zone, with their TTL.",
      .attrs =
          {
              // clang-format off
              // clang-format off
              {.name = "zone", .type = AttrType::kString, .required = true, .identity = true, .check = NameCheck,
               .doc = "the zone, e.g. \"example.edu.\""},
              {.name = "name", .type = AttrType::kString, .required = true, .identity = true, .check = NameCheck,
               .doc = "the name within the zone (\"www\"; \"@\" for the apex) or absolute"},
              {.name = "type", .type = AttrType::kString, .required = true, .identity = true, .one_of = kTypes,
               .doc = "the record type"},
              {.name = "values", .type = AttrType::kStringList, .unordered = true, .check = ValueCheck,
               .doc = "the records' data in zone-file form (\"192.0.2.1\", \"10 mx.example.edu.\"); no comments "
                      "(`;`), parentheses or control characters outside quotes; a TXT value not starting with a "
                      "quote is its text"},
              {.name = "ttl", .type = AttrType::kInt, .check = TtlCheck,
               .doc = "time to live in seconds (default " + std::to_string(kDefaultTtl) +
                      "), 0 to 2147483647 (RFC 2181)"},
              {.name = "wait_old_ttl", .type = AttrType::kBool, .setting = true, .default_value = "true",
               .doc = "after a change, later stages wait until the old TTL has passed (an alias has none of "
                      "its own: none is waited out)"},
              {.name = "alias_target", .type = AttrType::kString, .check = AliasCheck,
               .doc = "route53: an alias record instead of values and ttl, answering with this name's records "
                      "(a load balancer's, a CloudFront distribution's, another record's)"},
              {.name = "alias_zone_id", .type = AttrType::kString, .check = AliasZoneCheck,
               .doc = "route53: the hosted zone of alias_target (a load balancer's region's, CloudFront's "
                      "Z2FDTNDATAQYW2, or a zone of the account's)"},
              {.name = "evaluate_target_health", .type = AttrType::kBool,
               .doc = "route53: an alias answers only while its target is healthy (default false)"},
              // clang-format on
              // clang-format on
          },
      .provider_kind = "dns",
      .cached_ttl_attr = "ttl",
      .cached_ttl_opt_out_attr = "wait_old_ttl",
  }};
}

std::vector<ProviderKindSchema> DnsRecordProvider::Kinds() const {
  return {{.kind = "dns",
           .doc = "A DNS server whose zones reconcile changes.",
           .attrs = {
               // clang-format off
               // clang-format off
               {.name = "kind", .type = AttrType::kString, .required = true,
                .one_of = {"rfc2136", "powerdns", "route53"}, .doc = "how the zone is changed"},
               {.name = "server", .type = AttrType::kString,
                .doc = "rfc2136: the zone's primary, \"host:port\" (port 53 by default)"},
               {.name = "tsig_name", .type = AttrType::kString, .doc = "rfc2136: the TSIG key's name"},
               {.name = "tsig_algorithm", .type = AttrType::kString,
                .one_of = {"hmac-sha256", "hmac-sha512", "hmac-sha384", "hmac-sha224", "hmac-sha1", "hmac-md5"},
                .default_value = "hmac-sha256",
                .doc = "TSIG algorithm"},
               {.name = "tsig_secret", .type = AttrType::kString, .sensitive = true, .secret_ok = true,
                .doc = "the TSIG key's secret, base64"},
               {.name = "api_url", .type = AttrType::kString,
                .doc = "powerdns: the API's base URL, e.g. \"http://127.0.0.1:8081\""},
               {.name = "api_key", .type = AttrType::kString, .sensitive = true, .secret_ok = true,
                .doc = "powerdns: the API key"},
               {.name = "server_id", .type = AttrType::kString, .default_value = "localhost",
                .doc = "powerdns: the server in the API"},
               {.name = "aws", .type = AttrType::kString, .names_provider = "aws",
                .doc = "route53: the [provider.aws.NAME] of the account that holds the zones (its credentials, "
                       "endpoint)"},
               {.name = "zone_id", .type = AttrType::kString,
                .doc = "route53: the hosted zone's id (\"Z0123456789ABC\"); without it, the one hosted zone "
                       "named as the record's zone"},
               {.name = "max_change_percent", .type = AttrType::kInt, .default_value = "30",
                .doc = "most of a zone (of 10+ record sets) one stage may update or delete without --force"},
               // clang-format on
               // clang-format on
           }}};
}

void DnsRecordProvider::Probe(std::span<const Target* const> targets, std::vector<Result<State>>* out) {
  out->assign(targets.size(), Error{"not probed"});
  // One transfer per provider instance and zone.
  std::map<std::pair<std::string, std::string>, std::vector<std::size_t>> zones;
  for (std::size_t i = 0; i < targets.size(); ++i)
    zones[{targets[i]->provider ? targets[i]->provider->name : "", Zone(*targets[i])}].push_back(i);
  for (auto& [key, indices] : zones) {
    auto backend = BackendOf(*targets[indices[0]]);
    if (!backend) {
      for (std::size_t i : indices) (*out)[i] = backend.error();
      continue;
    }
    auto zone = (*backend)->ReadZone(key.second);
    if (zone && *zone) {
      std::lock_guard<std::mutex> g(mu_);
      zone_sizes_[BatchKey(*targets[indices[0]])] = (*zone)->size();
    }
    for (std::size_t i : indices) {
      const Target& t = *targets[i];
      if (Status s = KindAllows(t); !s) {
        (*out)[i] = s.error();
      } else if (!zone) {
        (*out)[i] = zone.error();
      } else if (*zone) {
        auto it = (*zone)->find({Owner(t), Type(t)});
        (*out)[i] = ToState(t, it == (*zone)->end() ? std::nullopt : std::optional<dns::RRset>(it->second));
      } else {
        auto set = (*backend)->ReadOne(key.second, Owner(t), Type(t));
        if (set) (*out)[i] = ToState(t, *set);
        else (*out)[i] = set.error();
      }
    }
  }
}

Result<State> DnsRecordProvider::Apply(const Change& change) {
  const Target& t = change.target;
  auto backend = BackendOf(t);
  if (!backend) return backend.error();
  auto c = ChangeFor(change);
  if (!c) return c.error();
  auto outcome = (*backend)->Update(Zone(t), {*c});
  if (!outcome) return Error{t.address + ": " + outcome.error().message};
  if (*outcome == dns::UpdateOutcome::kChangedSincePlan) return ChangedSincePlan(t);
  auto now = (*backend)->ReadOne(Zone(t), Owner(t), Type(t));
  if (!now) return Error{t.address + ": updated, but reading it back failed: " + now.error().message};
  return ToState(t, *now);
}

}  // namespace reconcile
