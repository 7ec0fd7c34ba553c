#include "providers/firewall/nft_table.h"

#include <arpa/inet.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace reconcile::nft {

using nlohmann::json;

std::string ChainName(const std::string& protocol, long port) { return protocol + "_" + std::to_string(port); }
std::string PortKey(const std::string& protocol, long port) { return protocol + "/" + std::to_string(port); }

Result<std::string> NormalizeSource(const std::string& source) {
  std::string addr = source;
  std::optional<int> len;
  if (auto slash = source.find('/'); slash != std::string::npos) {
    addr = source.substr(0, slash);
    const std::string digits = source.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 || !std::all_of(digits.begin(), digits.end(), ::isdigit))
      return Error{"'" + source + "' has no prefix length after '/'"};
    len = std::stoi(digits);
  }
  unsigned char bytes[16];
  char text[INET6_ADDRSTRLEN];
  int family = addr.find(':') == std::string::npos ? AF_INET : AF_INET6;
  int bits = family == AF_INET ? 32 : 128;
  if (inet_pton(family, addr.c_str(), bytes) != 1)
    return Error{"'" + source + "' is not an IPv4 or IPv6 address or network (such as 192.0.2.10 or 10.0.0.0/8)"};
  if (len && *len > bits) return Error{"'" + source + "' has a prefix longer than the address"};
  if (len) {
    // nft refuses a network with host bits set; say which network was meant.
    for (int b = *len; b < bits; ++b)
      if (bytes[b / 8] & (0x80 >> (b % 8))) {
        for (int c = *len; c < bits; ++c) bytes[c / 8] &= static_cast<unsigned char>(~(0x80 >> (c % 8)));
        inet_ntop(family, bytes, text, sizeof text);
        return Error{"'" + source + "' has bits set past its prefix; did you mean " + text + "/" +
                     std::to_string(*len) + "?"};
      }
  }
  inet_ntop(family, bytes, text, sizeof text);
  std::string out = text;
  if (len && *len < bits) out += "/" + std::to_string(*len);
  return out;
}

namespace {

// A source as nft's JSON writes it: "192.0.2.1" or {"prefix": {"addr", "len"}}.
std::optional<std::string> SourceOf(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object() && v.contains("prefix")) {
    const json& p = v["prefix"];
    return p.value("addr", "") + "/" + std::to_string(p.value("len", 0));
  }
  return std::nullopt;
}

bool IsSourceMatch(const json& m) {
  if (!m.contains("left") || !m["left"].contains("payload")) return false;
  const json& p = m["left"]["payload"];
  return p.value("field", "") == "saddr" && (p.value("protocol", "") == "ip" || p.value("protocol", "") == "ip6");
}

bool IsProtocolMatch(const json& m) {
  return m.contains("left") && m["left"].contains("meta") && m["left"]["meta"].value("key", "") == "l4proto";
}

std::string Compact(const json& expr) {
  std::string s = expr.dump();
  return s.size() > 200 ? s.substr(0, 200) + "…" : s;
}

// One rule of a port's chain into `rules`; false when it is not one reconcile writes.
bool ReadRule(const json& expr, PortRules* rules) {
  std::vector<std::string> sources;
  std::string verdict;
  bool matched_source = false;
  for (const json& e : expr) {
    if (e.contains("match")) {
      const json& m = e["match"];
      if (m.value("op", "") != "==") return false;
      if (IsProtocolMatch(m)) continue;
      if (!IsSourceMatch(m)) return false;
      matched_source = true;
      const json& right = m["right"];
      if (right.is_object() && right.contains("set")) {
        for (const json& item : right["set"]) {
          auto s = SourceOf(item);
          if (!s) return false;
          sources.push_back(*s);
        }
      } else if (auto s = SourceOf(right)) {
        sources.push_back(*s);
      } else {
        return false;
      }
    } else if (e.contains("accept")) {
      verdict = "accept";
    } else if (e.contains("reject")) {
      verdict = "reject";
    } else {
      return false;
    }
  }
  if (verdict == "reject" && !matched_source) {
    rules->refuse_rest = true;
    return true;
  }
  if (!matched_source || verdict.empty()) return false;
  auto& list = verdict == "accept" ? rules->allowed : rules->refused;
  list.insert(list.end(), sources.begin(), sources.end());
  return true;
}

}  // namespace

Result<Table> ParseTable(const std::string& text) {
  json doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.contains("nftables") || !doc["nftables"].is_array())
    return Error{"nft printed something that is not its JSON listing: " + text.substr(0, 200)};
  Table table;
  std::map<std::string, std::string> chain_port;  // chain name → "tcp/5432", for chains in the map
  for (const json& item : doc["nftables"]) {
    if (item.contains("table")) table.exists = true;
    if (!item.contains("map") || item["map"].value("name", "") != "ports") continue;
    for (const json& elem : item["map"].value("elem", json::array())) {
      // [{"concat": ["tcp", 5432]}, {"jump": {"target": "tcp_5432"}}]
      if (!elem.is_array() || elem.size() != 2 || !elem[0].contains("concat") || !elem[1].contains("jump")) continue;
      const json& key = elem[0]["concat"];
      if (key.size() != 2 || !key[0].is_string() || !key[1].is_number_integer()) continue;
      std::string port = PortKey(key[0].get<std::string>(), key[1].get<long>());
      chain_port[elem[1]["jump"].value("target", "")] = port;
      table.ports[port];
    }
  }
  for (const json& item : doc["nftables"]) {
    if (!item.contains("rule")) continue;
    const json& rule = item["rule"];
    const std::string chain = rule.value("chain", "");
    const json& expr = rule.value("expr", json::array());
    if (chain == "input") {
      for (const json& e : expr)
        if (e.contains("vmap") && e["vmap"].value("data", "") == "@ports") table.dispatching = true;
      continue;
    }
    auto port = chain_port.find(chain);
    if (port == chain_port.end()) continue;  // a chain no port jumps to: it decides nothing
    if (!ReadRule(expr, &table.ports[port->second]))
      return Error{"chain " + chain + " of table " + std::string(kTable) + " holds a rule reconcile did not write (" +
                   Compact(expr) + "); remove it with `nft delete rule " + kTable + " " + chain + " handle " +
                   std::to_string(rule.value("handle", 0)) + "`, or move it to a table of your own"};
  }
  return table;
}

PortState StateOf(const PortRules& rules) {
  PortState s;
  if (rules.refuse_rest) {
    s.state = rules.allowed.empty() ? "closed" : "open";
    s.sources = rules.allowed;
  } else if (!rules.refused.empty()) {
    s.state = "closed";
    s.sources = rules.refused;
  }
  std::sort(s.sources.begin(), s.sources.end());
  return s;
}

namespace {

// "ip saddr { a, b } " and "ip6 saddr { c } " for the sources of each family.
std::vector<std::string> SourceMatches(const std::vector<std::string>& sources) {
  std::string v4, v6;
  for (const std::string& s : sources) {
    std::string& list = s.find(':') == std::string::npos ? v4 : v6;
    list += (list.empty() ? "" : ", ") + s;
  }
  std::vector<std::string> out;
  if (!v4.empty()) out.push_back("ip saddr { " + v4 + " } ");
  if (!v6.empty()) out.push_back("ip6 saddr { " + v6 + " } ");
  return out;
}

}  // namespace

std::string SetPortScript(const std::string& protocol, long port, const PortState& want) {
  const std::string table = kTable;
  const std::string chain = ChainName(protocol, port);
  const std::string reject = protocol == "tcp" ? "reject with tcp reset" : "reject";
  const std::string rule = "add rule " + table + " " + chain + " ";
  // The frame: `add` leaves what exists; the input chain is rewritten to its one rule, so a
  // table found without it dispatches again.
  std::string s = "add table " + table + "\n" + "add chain " + table +
                  " input { type filter hook input priority 0 ; policy accept ; }\n" + "add map " + table +
                  " ports { type inet_proto . inet_service : verdict ; }\n" + "flush chain " + table + " input\n" +
                  "add rule " + table + " input meta l4proto . th dport vmap @ports\n" + "add chain " + table + " " +
                  chain + "\n" + "flush chain " + table + " " + chain + "\n";
  auto matches = SourceMatches(want.sources);
  if (want.state == "open" && !matches.empty()) {
    for (const std::string& m : matches) s += rule + m + "accept\n";
    s += rule + reject + "\n";
  } else if (want.state == "closed") {
    if (matches.empty()) s += rule + reject + "\n";
    for (const std::string& m : matches) s += rule + m + reject + "\n";
  }
  s += "add element " + table + " ports { " + protocol + " . " + std::to_string(port) + " : jump " + chain + " }\n";
  return s;
}

std::string RemovePortScript(const Table& table, const std::string& protocol, long port) {
  const std::string name = kTable;
  const std::string key = PortKey(protocol, port);
  if (!table.exists) return "";
  // The last port goes with the table: a host reconcile has let go of holds nothing of it.
  if (table.ports.empty() || (table.ports.size() == 1 && table.ports.count(key))) return "delete table " + name + "\n";
  if (!table.ports.count(key)) return "";
  return "delete element " + name + " ports { " + protocol + " . " + std::to_string(port) + " }\n" + "delete chain " +
         name + " " + ChainName(protocol, port) + "\n";
}

}  // namespace reconcile::nft
