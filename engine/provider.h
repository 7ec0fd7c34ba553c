// The one seam between the engine and the world. A Provider serves one or more resource
// types: it declares their schemas, reads the real state of many resources at once (so a
// provider can batch by host, zone or bucket), and applies one change. Everything else —
// diff, ordering, journaling, rollback, output — is the engine's.
//
// Errors come back as values (Result/Status); providers never throw across this seam.
#pragma once

#include <functional>
#include <map>
#include <span>
#include <memory>
#include <string>
#include <vector>

#include "engine/result.h"
#include "engine/schema.h"
#include "engine/value.h"

namespace reconcile {

// SSH's defaults for a [host.NAME] that leaves them out, as ssh's own.
inline constexpr int kSshPort = 22;
inline constexpr const char* kSshIdentity = "~/.ssh/id_ed25519";
inline constexpr const char* kSshKnownHosts = "~/.ssh/known_hosts";

// A [host.NAME] table, or the local machine.
struct HostConfig {
  std::string name;  // "local" for this machine
  bool local = false;
  std::string address;
  int port = kSshPort;
  std::string user;
  std::string identity;              // "" = ssh-agent when SSH_AUTH_SOCK is set, else kSshIdentity
  std::string identity_passphrase;   // env:NAME or file:PATH (absolute), read only to unlock it
  std::string host_key_fingerprint;  // "SHA256:…": a key accepted besides known_hosts' (a rebuilt server)
  std::string known_hosts;
  bool sudo = false;
  bool trust_on_first_use = false;
  // jump = "bastion": reached through that host's SSH connection (a direct-tcpip channel),
  // which may itself have one; `via` is that host, resolved by the loader.
  std::string jump;
  std::shared_ptr<const HostConfig> via;
  // ssh_config = true (~/.ssh/config) or a path: HostName, User, Port, IdentityFile,
  // ProxyJump and UserKnownHostsFile for `address` as `ssh ADDRESS` reads them, where the
  // spec says nothing (the SSH provider applies them when it connects).
  std::string ssh_config;
  bool port_written = false;
  // Keys of [host.NAME] that providers declared (Provider::HostSettings), for them to read:
  // what runs the host's services, say. The engine reads and checks them, and reads none.
  AttrMap settings;
};

// host = "local": this machine, reached without SSH.
inline const HostConfig& LocalHost() {
  static const HostConfig kLocal{.name = "local", .local = true};
  return kLocal;
}

// A [provider.KIND.NAME] table with its values resolved (secrets included).
struct ProviderConfig {
  std::string kind;
  std::string name;
  AttrMap attrs;
};

// One resource as a provider sees it: its desired attributes at the stage being planned,
// with references and secrets resolved.
struct Target {
  std::string address;  // "file.motd"
  const TypeSchema* type = nullptr;
  AttrMap desired;
  const HostConfig* host = nullptr;
  const ProviderConfig* provider = nullptr;
  // For types whose values name hosts or other provider instances (a copy's "HOST:PATH", a
  // restore's source database): every [host.NAME], and the instances its values name.
  const std::map<std::string, HostConfig>* hosts = nullptr;
  std::map<std::string, const ProviderConfig*> providers;
  // For each scoped list attribute (AttrSchema::scoped): every item the resource names at any
  // of its stages, sorted (an item that is a reference, known only when its stage runs, is
  // not among them).
  std::map<std::string, std::vector<std::string>> named;
  PrivateData desired_private;  // a rollback's: the private data of the journaled state it goes back to
};

// t.desired[attr], else its type's default (AttrSchema::default_value), else none: Desired()
// fills defaults in, but a target may be built without it (a test's).
Value DesiredValue(const Target& t, const std::string& attr);

enum class Action { kNone, kCreate, kUpdate, kDelete, kCheck };

struct Change {
  Action action = Action::kNone;
  Target target;
  State prior;                       // as probed
  std::vector<std::string> changed;  // attributes that differ, for kUpdate
  // A rollback's change: back to what it was (`desired` is the journaled prior), not forward
  // to the spec. Said, so a provider need not guess it from which attributes are present.
  bool undo = false;
  // For a long step (a sync): a progress line for the operator. Safe to call from any
  // thread; may be empty.
  std::function<void(const std::string&)> report;
};

struct Diff;

// One evaluation of a check: whether its condition holds now, and what was seen.
struct CheckResult {
  bool holds = false;
  std::string detail;  // "HTTP 503 from https://…", "port 5432 refused" — shown while polling
};

class Provider;

// One provider's share of a joint probe.
struct ProbeBatch {
  Provider* provider = nullptr;
  std::vector<const Target*> targets;
  std::vector<Result<State>> out;  // filled by the group, out[i] answering targets[i]
};

// Providers that reach the world through the same channel (the hosts' shells) can be probed
// together, so a host is asked once for everything a plan names on it, not once per type.
class ProbeGroup {
 public:
  virtual ~ProbeGroup() = default;
  virtual void Probe(std::vector<ProbeBatch>* batches) = 0;
};

class Provider {
 public:
  virtual ~Provider() = default;

  virtual std::string name() const = 0;  // the family: "file", "dns", "s3"
  virtual std::vector<TypeSchema> Types() const = 0;
  virtual std::vector<ProviderKindSchema> Kinds() const { return {}; }
  // Keys a [host.NAME] table may hold for this provider's types (HostConfig::settings).
  virtual std::vector<AttrSchema> HostSettings() const { return {}; }

  // Reads the world for every target; (*out)[i] answers targets[i]. A failure to read one
  // resource is that resource's error, not the batch's.
  virtual void Probe(std::span<const Target* const> targets, std::vector<Result<State>>* out) = 0;

  // Non-null when this provider's probes may be joined with others' of the same group.
  virtual ProbeGroup* probe_group() { return nullptr; }

  // Makes the world match change.target.desired (or removes it); returns the new state.
  virtual Result<State> Apply(const Change& change) = 0;

  // Changes with the same non-empty key may be applied together (one DNS UPDATE per zone):
  // the executor hands every ready step of a key to ApplyBatch at once.
  virtual std::string BatchKey(const Target&) const { return ""; }
  // out[i] answers changes[i]; by default one Apply after another.
  virtual std::vector<Result<State>> ApplyBatch(const std::vector<Change>& changes) {
    std::vector<Result<State>> out;
    for (const Change& c : changes) out.push_back(Apply(c));
    return out;
  }

  // Why these changes (all of one stage) need --force: a provider's safety limit, such as
  // changing too much of a DNS zone at once. Empty when they are within the limits.
  virtual std::vector<std::string> Guard(const std::vector<Change>&) { return {}; }
  // Whether Guard says anything: the plan builds no changes for those that never do. A
  // provider that overrides Guard overrides this too, or its limits are never asked.
  virtual bool HasGuard() const { return false; }

  // For types whose state is more than attribute values (a sync's objects): refines the
  // engine's attribute-by-attribute comparison — the action, the lines shown, whether it can
  // be undone. Must not touch the world; called for plans and rollbacks alike.
  virtual void Review(const TypeSchema&, const State& /*prior*/, const State& /*desired*/, Diff*) {}

  // For check types: evaluates the condition once (the engine polls). An Error means the
  // check could not be evaluated at all (bad URL), not that it does not hold.
  virtual Result<CheckResult> Check(const Target& target) {
    return Error{target.address + ": the " + name() + " provider has no checks"};
  }
};

}  // namespace reconcile
