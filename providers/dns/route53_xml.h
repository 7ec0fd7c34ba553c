// Route 53's REST-XML, apart from the HTTP that carries it (osquery's habit: parse and build in
// pure functions, tested on fixtures; route53_backend.cc does the I/O). Record sets travel as
// Route 53 lists them (names in its case and \ddd escapes, values in its order): a DELETE must
// repeat them exactly.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/result.h"
#include "providers/dns/dns_wire.h"

namespace reconcile::dns::route53 {

inline constexpr const char* kApi = "/2013-04-01";

// One page of ListResourceRecordSets: its sets as listed, and where the next page starts.
struct RecordPage {
  std::vector<RRset> sets;   // owner and values as Route 53 wrote them
  std::vector<bool> routed;  // sets[i] has a SetIdentifier (weighted, latency, failover, …)
  bool truncated = false;
  std::string next_name, next_type, next_identifier;
};
Result<RecordPage> ParseRecordPage(const std::string& xml);

// ListHostedZonesByName: the ids (without "/hostedzone/") of the zones named `zone` exactly;
// a public and a private zone may share a name.
Result<std::vector<std::string>> ParseZonesNamed(const std::string& xml, const std::string& zone);

// GetHostedZone: the zone's name.
Result<std::string> ParseHostedZoneName(const std::string& xml);

// ChangeResourceRecordSets and GetChange: the change's id (without "/change/") and status
// ("PENDING", "INSYNC").
struct ChangeInfo {
  std::string id;
  std::string status;
};
Result<ChangeInfo> ParseChangeInfo(const std::string& xml);

// One change of a batch: "DELETE" or "CREATE" a set. An alias set is written with its
// AliasTarget alone (no TTL, no records).
struct Change {
  std::string action;
  RRset set;
};
std::string ChangeBatchXml(const std::vector<Change>& changes, const std::string& comment);

// moto refuses a CREATE identical to one it once took while a set of that name and type
// exists, even when the same batch DELETEs it first; Route 53 applies a batch in order, and
// DELETE then CREATE is its documented way to replace a set. Turns each CREATE that follows a
// DELETE of the same name and type into an UPSERT (the DELETE still guarding it); false when
// there is none.
bool UpsertReplacements(std::vector<Change>* batch);

// A name as reconcile compares names: lower case, absolute, Route 53's \ddd escapes read
// ("\052.example.org." is "*.example.org.").
std::string NormalName(const std::string& name);

// Whether a refused ChangeResourceRecordSets means a set is no longer as probed: AWS's
// InvalidChangeBatch "Tried to delete … but it was not found / the values provided do not
// match", "Tried to create … but it already exists"; moto's InvalidInput for a DELETE that
// matches nothing.
bool IsChangedSincePlan(const std::string& code, const std::string& message);

}  // namespace reconcile::dns::route53
