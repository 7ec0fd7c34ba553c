// DNS on the wire through ldns: questions straight to a zone's primary (never a caching
// resolver), a whole zone by AXFR, and RFC 2136 UPDATE messages with prerequisites, all
// signed with TSIG when a key is given. Values travel in presentation format ("192.0.2.1",
// "10 mail.example.test.", TXT as its text).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/result.h"

namespace reconcile::dns {

struct Server {
  std::string host = "127.0.0.1";
  int port = 53;
  std::string Describe() const { return host + ":" + std::to_string(port); }
};

// "ns1.example.edu:53", "127.0.0.1:15354", "[::1]:53", "ns1" (port 53).
Result<Server> ParseServer(const std::string& text);

struct Tsig {
  std::string name;       // "coralnet"
  std::string algorithm;  // "hmac-sha256", "hmac-sha512", …
  std::string secret;     // base64
  bool empty() const { return name.empty(); }
};

// Route 53's alias: the name answers with another AWS resource's records (a load balancer, a
// CloudFront distribution, a record of another zone), with no values or TTL of its own.
struct AliasTarget {
  std::string dns_name;  // absolute, lower case
  std::string zone_id;   // the target's hosted zone
  bool evaluate_health = false;
  bool operator==(const AliasTarget&) const = default;
};

// One name's records of one type.
struct RRset {
  std::string owner;  // absolute, lower case, with the final dot
  std::string type;   // "A"
  long ttl = 0;
  std::vector<std::string> values;   // presentation format, sorted
  std::optional<AliasTarget> alias;  // Route 53 only; then no values, and ttl 0
};
using RRsetKey = std::pair<std::string, std::string>;  // owner, type
using Zone = std::map<RRsetKey, RRset>;

// The owner of `name` in `zone`: "@" is the apex, "www" is www.ZONE., "x.example." stays.
std::string OwnerName(const std::string& name, const std::string& zone);
std::string AbsoluteZone(const std::string& zone);

// What ldns would read differently from what the spec says, or "" when nothing: a ';'
// outside quotes starts a zone-file comment (so "10 mail.example. ; x" lost its tail),
// parentheses group lines, control characters end the record or the field. A TXT value
// that does not start with a quote is quoted whole by reconcile, so anything but control
// characters is its text.
std::string ValueProblem(const std::string& type, const std::string& value);
// The same for a zone or owner name: one word of a zone file.
std::string NameProblem(const std::string& name);

// The value as the server will print it back (names made absolute against the zone), so
// "mail" and "mail.example.test." compare equal. An Error when ldns cannot parse it.
Result<std::string> CanonicalValue(const std::string& type, const std::string& value, const std::string& zone);

// Values as the server holds them: canonical, sorted, each once (an RRset is a set).
Result<std::vector<std::string>> CanonicalSet(const std::string& type, const std::vector<std::string>& values,
                                              const std::string& zone);

// Every record of the zone (SOA and NS included) by AXFR; nullopt when the server refuses
// transfers (ask for each record instead).
Result<std::optional<Zone>> Transfer(const Server& server, const std::string& zone, const Tsig& tsig);

// One RRset, asked of the server without recursion.
Result<std::optional<RRset>> Query(const Server& server, const std::string& owner, const std::string& type,
                                   const Tsig& tsig);

// One change within an UPDATE: what was probed (the prerequisite) and what should be.
struct RRsetChange {
  std::optional<RRset> before;  // nullopt: must not exist
  std::optional<RRset> after;   // nullopt: delete
};

enum class UpdateOutcome { kDone, kChangedSincePlan };

// A DNS message over TCP is at most 65,535 bytes (RFC 1035 4.2.2); RFC 2136 sets no other
// limit on an UPDATE. Of those, kUpdateReserve is kept for the header, the zone section and
// the TSIG record (a key name and an algorithm name of at most 255 bytes each, a MAC of 64).
constexpr std::size_t kMaxMessage = 65535;
constexpr std::size_t kUpdateReserve = 1024;
// How much of a message reconcile fills with changes (by UpdateSizeBound): BIND's time for
// one UPDATE grows faster than its size, so several of 16 KiB, pipelined (UpdateAll), beat one
// full one: 1,000 A records changed in 26-28 ms as four, 33-34 ms as one of 58 KB (8 KiB: 23-27
// ms, but a server that syncs its journal for each UPDATE pays that per message).
constexpr std::size_t kUpdateBudget = 16 * 1024;
static_assert(kUpdateBudget <= kMaxMessage - kUpdateReserve, "a message of the budget must fit in one");
// At most how many bytes `change` adds to an UPDATE of `zone`: its prerequisite and update
// records, each owner compressed to its labels ahead of the zone and a pointer to it (the zone
// section's name, at offset 12), rdata counted as if uncompressed.
std::size_t UpdateSizeBound(const RRsetChange& change, const std::string& zone);

// Sends the changes as one UPDATE message (over TCP). Prerequisites make it all-or-nothing:
// if any RRset is not as probed, nothing changes and kChangedSincePlan comes back. A message
// that would pass kMaxMessage is not sent: an Error says so.
Result<UpdateOutcome> Update(const Server& server, const std::string& zone, const Tsig& tsig,
                             const std::vector<RRsetChange>& changes);
// Several UPDATE messages, each as Update, pipelined on one TCP connection (RFC 7766 6.2.1.1):
// each is sent as soon as it is built, without waiting for the answers to those before it, so
// the server applies one while the next is built. One result each. Messages a server leaves
// unanswered when it closes the connection (one that does not pipeline) go again one to a
// connection: their prerequisites refuse any that went in the first time.
std::vector<Result<UpdateOutcome>> UpdateAll(const Server& server, const std::string& zone, const Tsig& tsig,
                                             const std::vector<std::vector<RRsetChange>>& messages);

}  // namespace reconcile::dns
