// The `dns_record` type: one RRset (zone, name, type) with its values and TTL, on a
// [provider.dns.NAME] of kind "rfc2136" (BIND, Knot, PowerDNS: AXFR and UPDATE, with TSIG),
// "powerdns" (its HTTP API) or "route53" (with Route 53's alias records, whose target stands
// for values and TTL); zone_backend.h has them.
//
// Probing reads each zone whole from its primary (by AXFR, falling back to one question per
// record when transfers are refused; or the API's zone), never through a caching resolver.
// Every update is checked against what was probed (RFC 2136 prerequisites; the API's zone
// read again; Route 53's DELETE of the probed set), so a record someone else changed since the
// plan makes the update fail — nothing is overwritten.
#pragma once

#include <map>
#include <mutex>

#include "engine/provider.h"

namespace reconcile {

class DnsRecordProvider : public Provider {
 public:
  std::string name() const override { return "dns"; }
  std::vector<TypeSchema> Types() const override;
  std::vector<ProviderKindSchema> Kinds() const override;
  void Probe(std::span<const Target* const> targets, std::vector<Result<State>>* out) override;
  Result<State> Apply(const Change& change) override;
  // All changes to one zone of one server that are ready together are handed over at once:
  // over RFC 2136 as UPDATE messages of up to 16 KiB pipelined on one connection, elsewhere as
  // few requests as fit.
  std::string BatchKey(const Target& target) const override;
  std::vector<Result<State>> ApplyBatch(const std::vector<Change>& changes) override;
  // Like octoDNS: updating or deleting more than max_change_percent of a zone's
  // RRsets at once, in a zone of 10 or more, needs --force.
  std::vector<std::string> Guard(const std::vector<Change>& changes) override;
  bool HasGuard() const override { return true; }

 private:
  std::mutex mu_;
  std::map<std::string, std::size_t> zone_sizes_;  // batch key → RRsets, from the last transfer
};

}  // namespace reconcile
