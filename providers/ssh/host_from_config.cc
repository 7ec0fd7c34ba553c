#include "providers/ssh/host_from_config.h"

#include <unistd.h>

#include <cstdlib>

#include "providers/ssh/ssh_config.h"

namespace reconcile {

namespace {

constexpr int kMaxHops = 8;  // a ProxyJump chain longer than this is a config loop

std::string Home() {
  const char* home = std::getenv("HOME");
  return home ? home : "";
}

std::string LocalUser() {
  const char* user = std::getenv("USER");
  return user ? user : "root";
}

// "[user@]host[:port]", one hop of a ProxyJump.
HostConfig Hop(const std::string& text, const HostConfig& from) {
  HostConfig h;
  std::string rest = text;
  if (std::size_t at = rest.rfind('@'); at != std::string::npos) {
    h.user = rest.substr(0, at);
    rest = rest.substr(at + 1);
  }
  std::size_t colon = rest.rfind(':');
  bool bracketed = !rest.empty() && rest[0] == '[';
  if (bracketed) {
    std::size_t close = rest.find(']');
    if (close != std::string::npos && close + 1 < rest.size() && rest[close + 1] == ':') {
      h.port = std::atoi(rest.c_str() + close + 2);
      h.port_written = true;
    }
    rest = rest.substr(1, close == std::string::npos ? std::string::npos : close - 1);
  } else if (colon != std::string::npos && rest.find(':') == colon) {
    h.port = std::atoi(rest.c_str() + colon + 1);
    h.port_written = true;
    rest = rest.substr(0, colon);
  }
  h.name = text;
  h.address = rest;
  h.ssh_config = from.ssh_config;
  return h;
}

Result<HostConfig> Apply(const HostConfig& host, std::vector<std::string>* notes, int depth) {
  if (host.ssh_config.empty()) return host;
  if (depth > kMaxHops)
    return Error{"the ProxyJump of " + host.address + " in " + host.ssh_config + " goes more than " +
                 std::to_string(kMaxHops) + " hops deep; is it a loop?"};
  std::string home = Home();
  std::string path = host.ssh_config.rfind("~/", 0) == 0 ? home + host.ssh_config.substr(1) : host.ssh_config;
  auto entry = ReadSshConfig(path, host.address, home, host.user.empty() ? LocalUser() : host.user);
  // ssh_config = true with no config at all: as ssh, nothing to apply.
  if (!entry && entry.error().code == ErrorCode::kNotFound && host.ssh_config == "~/.ssh/config") return host;
  if (!entry) return Error{"ssh_config: " + entry.error().message};
  if (notes)
    for (const std::string& n : entry->ignored) notes->push_back(n);
  HostConfig h = host;
  h.ssh_config.clear();  // applied: applying it again would match the config on the HostName
  if (entry->hostname) h.address = *entry->hostname;
  if (h.user.empty() && entry->user) h.user = *entry->user;
  if (!h.port_written && entry->port) h.port = *entry->port;
  if (h.identity.empty() && !entry->identity_files.empty() && entry->identity_files.front() != "none")
    h.identity = entry->identity_files.front();
  if (h.known_hosts.empty() && !entry->user_known_hosts_files.empty())
    h.known_hosts = entry->user_known_hosts_files.front();
  if (h.jump.empty() && !h.via && entry->proxy_jump && *entry->proxy_jump != "none") {
    // "a,b": a first, then b through a, then this host through b.
    std::shared_ptr<const HostConfig> via;
    std::string chain = *entry->proxy_jump;
    std::size_t start = 0;
    while (start <= chain.size()) {
      std::size_t comma = chain.find(',', start);
      std::string one = chain.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
      auto hop = Apply(Hop(one, host), notes, depth + 1);
      if (!hop) return hop.error();
      if (via && !hop->via) hop->via = via;
      via = std::make_shared<const HostConfig>(std::move(*hop));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    h.via = via;
  }
  return h;
}

}  // namespace

std::string DescribeHost(const HostConfig& host) {
  return host.name + " (" + (host.user.empty() ? "" : host.user + "@") + host.address + ":" +
         std::to_string(host.port) + (host.via ? " via " + host.via->name : std::string()) + ")";
}

Result<HostConfig> WithSshConfig(const HostConfig& host, std::vector<std::string>* notes) {
  return Apply(host, notes, 0);
}

}  // namespace reconcile
