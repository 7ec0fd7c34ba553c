// How dns_record reaches a zone: RFC 2136 (AXFR, questions and UPDATE with prerequisites,
// TSIG-signed) or the PowerDNS HTTP API. Both read a zone whole and apply a batch of RRset
// changes all or nothing, refusing (kChangedSincePlan) when an RRset is no longer as probed.
#pragma once

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
};

// From a [provider.dns.NAME] (kind "rfc2136" or "powerdns"), its defaults filled in
// (ResolveProvider).
Result<std::unique_ptr<ZoneBackend>> BackendFor(const ProviderConfig& config);

// The PowerDNS API's zone JSON → RRsets (pure, for tests).
Result<Zone> ParsePowerDnsZone(const std::string& body);

}  // namespace reconcile::dns
