// The nftables table reconcile owns on a host, `inet reconcile`: a verdict map from
// (protocol, port) to one chain per port, whose rules say who may connect. Pure text in and
// out — the JSON `nft -j list table` prints, the script `nft -f` applies — for tests.
//
// The table is reconcile's alone; rules elsewhere (other tables, the host's own firewall) are
// never read or written. An accept here cannot open what another table drops: "open" means
// reconcile does not close it.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "engine/result.h"

namespace reconcile::nft {

inline constexpr const char* kTable = "inet reconcile";

// What one port's chain says.
struct PortRules {
  std::vector<std::string> allowed;  // sources accepted before the catch-all
  std::vector<std::string> refused;  // sources refused, everyone else let through
  bool refuse_rest = false;          // the chain ends by refusing everyone
};

struct Table {
  bool exists = false;
  bool dispatching = false;                // the input chain's vmap rule is there
  std::map<std::string, PortRules> ports;  // "tcp/5432" → its chain, for ports in the map

  // There with no port in its map: it decides nothing, yet its input hook stays. What an
  // older reconcile left when killed between the two `nft` runs of a removal.
  bool Leftover() const { return exists && ports.empty(); }
};

// "tcp" + 5432 → "tcp_5432" (the chain), "tcp/5432" (the key above).
std::string ChainName(const std::string& protocol, long port);
std::string PortKey(const std::string& protocol, long port);

// `nft -j list table inet reconcile` output → the table. An error names a rule in a port's
// chain that reconcile did not write (so it cannot say what the port's state is).
Result<Table> ParseTable(const std::string& json);

// A source as nft prints it: the address canonical, the prefix length only when it is not
// the whole address ("192.0.2.1", "10.0.0.0/8", "2001:db8::/32"). Error when it is neither
// an IPv4 nor an IPv6 address or network.
Result<std::string> NormalizeSource(const std::string& source);

// The port's rules as state/sources: open to all, open only to `sources`, closed to all, or
// closed only to `sources`.
struct PortState {
  std::string state = "open";  // "open" / "closed"
  std::vector<std::string> sources;
};
PortState StateOf(const PortRules& rules);

// One atomic `nft -f` script: the table's frame made sure of, then the port's chain
// rewritten and entered in the map. Sources must be normalised.
std::string SetPortScript(const std::string& protocol, long port, const PortState& want);
// One atomic `nft -f` script that takes the port out of `table` (as listed just before):
// its map entry and chain, or the whole table when no other port is left in it, so no kill
// can leave an empty table behind. "" when neither the port nor a leftover table is there.
std::string RemovePortScript(const Table& table, const std::string& protocol, long port);

}  // namespace reconcile::nft
