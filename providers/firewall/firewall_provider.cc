#include "providers/firewall/firewall_provider.h"

#include <algorithm>

#include "engine/plan/diff.h"
#include "providers/firewall/nft_table.h"
#include "providers/ssh/host_connections.h"

namespace reconcile {

namespace {

// nft lives in /usr/sbin, which a login that is not root may not have on its PATH.
constexpr const char* kPath = "PATH=\"$PATH:/usr/sbin:/sbin\"";

std::string Protocol(const Target& t) {
  Value v = DesiredValue(t, "protocol");  // at its default when not written
  return AsString(v) ? *AsString(v) : "";
}
long Port(const AttrMap& attrs) { return static_cast<long>(IntAttr(attrs, "port").value_or(0)); }

// What nft's failure means for the operator.
std::string NftTrouble(const CommandResult& r, const std::string& where) {
  const std::string& err = r.err.empty() ? r.out : r.err;
  if (r.exit_code == 127 || err.find("not found") != std::string::npos)
    return "nft is not installed on " + where + " (Debian: apt-get install nftables)";
  if (err.find("Operation not permitted") != std::string::npos)
    return "nft on " + where + " needs root: set sudo = true on the host";
  return "nft on " + where + ": " + err;
}

bool NoTable(const CommandResult& r) {
  return r.exit_code != 0 && r.err.find("No such file or directory") != std::string::npos;
}

// Set on a port's probed state when the port is not there but reconcile's table is, empty
// (nft::Table::Leftover): a port the spec wants gone then still has that table to remove.
constexpr const char* kLeftoverTable = "leftover_table";

State StateFor(const Target& t, const nft::Table& table) {
  State s;
  s.attrs["port"] = static_cast<std::int64_t>(Port(t.desired));
  s.attrs["protocol"] = Protocol(t);
  auto it = table.ports.find(nft::PortKey(Protocol(t), Port(t.desired)));
  if (it == table.ports.end()) {
    if (table.Leftover()) s.attrs[kLeftoverTable] = true;
    return s;
  }
  s.exists = true;
  // Without the input chain's dispatch rule the port's chain decides nothing: it is open.
  nft::PortState ps = table.dispatching ? nft::StateOf(it->second) : nft::PortState{};
  s.attrs["state"] = ps.state;
  s.attrs["sources"] = StringList(ps.sources);
  return s;
}

ProbePart TablePart(std::vector<const Target*> targets, std::vector<Result<State>*> slots, std::string where) {
  return {std::string(kPath) + " nft -j list table " + nft::kTable,
          [targets, slots, where](const Result<CommandResult>& r) {
            Result<nft::Table> table = nft::Table{};
            if (!r) table = r.error();
            else if (r->exit_code == 0) table = nft::ParseTable(r->out);
            else if (!NoTable(*r)) table = Error{NftTrouble(*r, where)};
            for (std::size_t k = 0; k < targets.size(); ++k) {
              if (table) *slots[k] = StateFor(*targets[k], *table);
              else *slots[k] = table.error();
            }
          }};
}

Result<std::vector<std::string>> Normalized(const AttrMap& attrs) {
  std::vector<std::string> out;
  for (const std::string& s : ListAttr(attrs, "sources")) {
    auto n = nft::NormalizeSource(s);
    if (!n) return n.error();
    out.push_back(*n);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace

std::vector<TypeSchema> FirewallProvider::Types() const {
  return {{
      .name = "firewall_port",
      .doc = "A port on a host open or closed, to everyone or to listed sources, in the nftables table reconcile "
             "owns there (inet reconcile). Other tables are never touched; an accept here cannot open what another "
             "table drops.",
      .attrs =
          {
              // clang-format off
              {.name = "port", .type = AttrType::kInt, .required = true, .identity = true, .doc = "the port"},
              {.name = "protocol", .type = AttrType::kString, .identity = true, .one_of = {"tcp", "udp"},
               .default_value = "tcp",
               .doc = "tcp or udp"},
              {.name = "state", .type = AttrType::kString, .required = true, .one_of = {"open", "closed"},
               .doc = "open: only `sources` may connect (everyone when none are given); closed: `sources` are "
                      "refused (everyone when none are given)"},
              {.name = "sources", .type = AttrType::kStringList, .unordered = true,
               .pattern = "[0-9A-Fa-f:.]+(/[0-9]{1,3})?",
               .pattern_hint = "an IPv4 or IPv6 address or network such as 192.0.2.10 or 10.0.0.0/8",
               .doc = "IPv4/IPv6 addresses or networks (10.0.0.0/8)"},
              // clang-format on
          },
      .uses_host = true,
  }};
}

std::vector<ProbePart> FirewallProvider::ProbeOn(RemoteShell& shell, const HostConfig&,
                                                 std::vector<const Target*> targets, std::vector<Result<State>*> out) {
  return {TablePart(std::move(targets), std::move(out), shell.Describe())};
}

void FirewallProvider::Review(const TypeSchema&, const State& prior, const State& desired, Diff* diff) {
  // A port already gone, wanted gone, in a table left empty: its removal is not finished.
  if (!prior.exists && !desired.exists && BoolAttr(prior.attrs, kLeftoverTable).value_or(false)) {
    diff->action = Action::kDelete;
    AttrChange table{"table", std::string(nft::kTable), std::monostate{}};
    table.set_summary(std::string(nft::kTable) + " is there with no port in it (a removal cut off): removed");
    diff->changes.push_back(std::move(table));
    return;
  }
  // "192.0.2.1/32" is what nft lists as "192.0.2.1": the same source.
  if (!diff->Update("sources")) return;
  auto want = Normalized(desired.attrs);
  auto have = Normalized(prior.attrs);
  if (want && have && *want == *have) diff->Drop("sources");
}

std::mutex& FirewallProvider::HostLock(const std::string& host) {
  std::lock_guard<std::mutex> lock(mu_);
  return host_locks_[host];
}

Result<State> FirewallProvider::Apply(const Change& change) {
  const Target& t = change.target;
  auto shell_or = hosts_->For(*t.host);
  if (!shell_or) return shell_or.error();
  RemoteShell& shell = **shell_or;
  const std::string protocol = Protocol(t);
  const long port = Port(t.desired);
  std::lock_guard<std::mutex> lock(HostLock(t.host->name));

  auto nft = [&](const std::string& script) -> Status {
    auto r = shell.Run({"sh", "-c", std::string(kPath) + " exec nft -f /dev/stdin"}, script);
    if (!r) return Error{r.error().message};
    if (r->exit_code != 0)
      return Error{NftTrouble(*r, shell.Describe()) + " (nft -f is all or nothing: the table is as it was)"};
    return Status::Ok();
  };
  if (change.action == Action::kDelete) {
    // Read under the host's lock, then one script: the port, or the table with its last port.
    Result<nft::Table> table = Error{"not read"};
    RunProbePart(shell, {std::string(kPath) + " nft -j list table " + nft::kTable, [&](const Result<CommandResult>& r) {
                           if (!r) table = r.error();
                           else if (r->exit_code == 0) table = nft::ParseTable(r->out);
                           else if (NoTable(*r)) table = nft::Table{};
                           else table = Error{NftTrouble(*r, shell.Describe())};
                         }});
    if (!table) return Error{t.address + ": " + table.error().message};
    if (std::string script = nft::RemovePortScript(*table, protocol, port); !script.empty())
      if (Status s = nft(script); !s) return Error{s.message()};
  } else {
    auto sources = Normalized(t.desired);
    if (!sources) return Error{t.address + ": sources: " + sources.error().message};
    nft::PortState want{StringAttr(t.desired, "state", "open"), *sources};
    if (Status s = nft(nft::SetPortScript(protocol, port, want)); !s) return Error{s.message()};
  }
  Result<State> after = Error{"not read back"};
  RunProbePart(shell, TablePart({&t}, {&after}, shell.Describe()));
  return after;
}

}  // namespace reconcile
