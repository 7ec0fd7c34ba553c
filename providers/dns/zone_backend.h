// How dns_record reaches a zone: RFC 2136 (AXFR, questions and UPDATE with prerequisites,
// TSIG-signed), the PowerDNS HTTP API, or Route 53 (route53_backend.h). Each reads a zone whole
// and applies a batch of RRset changes all or nothing, refusing (kChangedSincePlan) when an
// RRset is no longer as probed.
#pragma once

#include <map>
#include <memory>

#include "engine/provider.h"
#include "providers/dns/dns_wire.h"

namespace reconcile::dns {

class ZoneBackend {
 public:
  virtual ~ZoneBackend() = default;
  // nullopt: the server will not hand the zone over whole (ask per record instead).
  virtual Result<std::optional<Zone>> ReadZone(const std::string& zone) = 0;
  virtual Result<std::optional<RRset>> ReadOne(const std::string& zone, const std::string& owner,
                                               const std::string& type) = 0;
  virtual Result<UpdateOutcome> Update(const std::string& zone, const std::vector<RRsetChange>& changes) = 0;
  // Several Updates, one result each: by default one after the other.
  virtual std::vector<Result<UpdateOutcome>> UpdateAll(const std::string& zone,
                                                       const std::vector<std::vector<RRsetChange>>& messages);
  // How much one Update may carry, in the units of ChangeSize.
  virtual std::size_t MessageBudget() const { return 48 * 1024; }
  // A change's share of MessageBudget; by default a rough size of its names and values.
  virtual std::size_t ChangeSize(const RRsetChange& change, const std::string& zone) const;
};

// From a [provider.dns.NAME] (kind "rfc2136", "powerdns" or "route53"), its defaults filled in
// (ResolveProvider), and the instances it names (Target::providers: route53's aws).
Result<std::unique_ptr<ZoneBackend>> BackendFor(const ProviderConfig& config,
                                                const std::map<std::string, const ProviderConfig*>& named);

// The PowerDNS API's zone JSON → RRsets (pure, for tests).
Result<Zone> ParsePowerDnsZone(const std::string& body);

}  // namespace reconcile::dns
