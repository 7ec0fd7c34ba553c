// The validated model of a cutover spec: stages, variables, hosts, provider instances and
// resources, each value with the place in the TOML it came from. Built by LoadSpec (loader.cc);
// what a resource should be at a given stage is Desired() (desired.cc).
#pragma once

#include <chrono>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/diagnostics.h"
#include "engine/provider.h"
#include "engine/sparse_vector.h"
#include "engine/spec/notify_spec.h"
#include "engine/value.h"

namespace reconcile {

class Registry;

// Size limits on what a spec makes reconcile hold in memory, so a mistake (or a spec built to
// do harm) ends in an error naming its place instead of exhausting memory. Each is far above
// what a cutover writes: a config file built from variables, a TLS key, a maintenance page.
inline constexpr std::size_t kMaxValueBytes = 1 << 20;    // a string after ${...} substitution
inline constexpr std::size_t kMaxSecretBytes = 64 << 10;  // an env:/file: secret
inline constexpr std::size_t kMaxSourceBytes = 16 << 20;  // a file read by `source`
std::string SizeText(std::size_t bytes);                  // "1 MiB", "64 KiB"

// A value as written: strings may still hold ${TYPE.NAME.attr} references (variables are
// already substituted), and a secret holds its env:/file: reference, not its content.
struct SpecValue {
  Value value;
  SourceLoc loc;
  bool secret = false;
  SparseVector<SourceLoc> item_locs;  // a list's items, where each was written
};
using SpecAttrs = FlatMap<std::string, SpecValue>;

// [TYPE.NAME.at.STAGE]: attributes that change from that stage on.
struct Overlay {
  std::size_t stage = 0;
  SourceLoc loc;
  SpecAttrs attrs;
};

struct Dependency {
  enum class Kind { kAfter, kReference };
  std::size_t on = 0;  // index into Spec::resources
  Kind kind = Kind::kAfter;
  bool computed = false;  // a reference to a computed attribute (AttrSchema::computed)
  SourceLoc loc;
};

struct Resource {
  std::string type;
  std::string name;
  std::string address;  // "TYPE.NAME"
  const TypeSchema* schema = nullptr;
  Provider* provider = nullptr;
  std::size_t stage = 0;           // where it enters
  SourceLoc loc;                   // its [TYPE.NAME] header
  SourceLoc stage_loc;             // its `stage = ...`, or the header when defaulted
  SpecAttrs attrs;                 // base attributes, `ensure` included when written
  SparseVector<Overlay> overlays;  // in stage order
  SparseVector<Dependency> deps;
  // Handlers (Ansible's): the steps it notifies run once after it changed in a stage (or a
  // rollback), after it; a step notified by any resource runs only so.
  SparseVector<std::size_t> notifies;
  SparseVector<std::size_t> notified_by;
  std::string host;               // "local", a [host.NAME], or "" when the type takes none
  std::string provider_instance;  // "s3.main", or ""
  bool has_references = false;
  // Written attributes that hold a secret, at any stage, or take a value from a sensitive
  // attribute through references; filled once by IndexSensitive, for IsSensitive.
  SparseVector<std::string> sensitive_written;

  bool is_check() const { return schema->is_check; }
  // An event, not a state (schema one_shot, and not run = "converge"): it runs once, in
  // its stage, and a rollback past that stage reverts it.
  bool IsOnce() const;
  bool IsHandler() const { return !notified_by.empty(); }
  const Overlay* OverlayAt(std::size_t stage) const;
};

// Resources by address (Spec::Index): an open-addressing table of their indices, each beside
// its address's hash, the addresses themselves kept once, in the resources. A million
// resources take 16 MiB here, where a hash map of strings took 56 MiB and a pointer chase a
// lookup (6% of planning a long chain of references).
class AddressIndex {
 public:
  bool Build(const std::vector<Resource>& resources);  // false when an address repeats
  std::optional<std::size_t> Find(const std::vector<Resource>& resources, std::string_view address) const;

 private:
  struct Slot {
    std::uint32_t index_plus_one = 0;  // 0: empty
    std::uint32_t hash = 0;            // the hash's high bits: most misses end here
  };
  std::vector<Slot> slots_;  // a power of two, at most half full
};

struct StageSpec {
  std::string name;
  std::string confirm;  // apply pauses before this stage unless --yes
  SourceLoc loc;
  // After its steps and checks pass, its checks and `watch_checks` keep being polled this
  // long before it counts as complete (CloudFormation's monitoring time). 0: not watched.
  std::chrono::milliseconds watch{0};
  std::vector<std::size_t> watch_checks;  // check resources, of this stage or an earlier one
  // What a failed step or check does: "stop" (the default) or "rollback" to the end of the
  // stage before. Empty: the spec's own `on_failure` says.
  std::string on_failure;
  SourceLoc on_failure_loc;
  std::string downtime;  // "starts" or "ends": the window users see, from rehearsal timings
};

struct ProviderInstance {
  std::string kind;
  std::string name;  // as resources name it: "s3.main"
  SourceLoc loc;
  SpecAttrs attrs;                             // as written
  const ProviderKindSchema* schema = nullptr;  // its keys, and their defaults (ResolveProvider)
};

struct LoadOptions {
  std::string env;                          // --env NAME: merge SPEC.NAME.toml over the spec
  std::map<std::string, std::string> vars;  // --var k=v
  // A spec larger is parsed a piece at a time (toml_pieces.h); tests make it small.
  std::size_t piece_bytes = 1 << 20;
};

// What the world says of the computed attributes (AttrSchema::computed) of the resources
// others refer to for one, by resource index: filled by ReadComputed (plan.h) before a plan,
// a stage or a step works out what refers to them. A resource not in it is taken as not
// existing yet: a reference to it is known only after apply.
class ReadValues {
 public:
  std::optional<Value> Get(std::size_t resource, const std::string& attr) const;
  bool Has(std::size_t resource) const;           // read, and it exists
  void Set(std::size_t resource, AttrMap attrs);  // what exists; without it, Forget
  void Forget(std::size_t resource);

 private:
  mutable std::mutex mu_;  // the executor's batches run on threads of their own
  std::unordered_map<std::size_t, AttrMap> by_resource_;
};

struct Spec {
  std::shared_ptr<SourceSet> sources;  // the texts every SourceLoc in the model points into
  LoadOptions options;                 // how it was loaded, so a saved plan can load it the same way
  std::string path;                    // the spec file as given
  std::string dir;                     // its folder: relative paths in the spec are relative to it
  std::int64_t version = 0;
  std::string name;
  std::vector<StageSpec> stages;
  std::string on_failure = "stop";          // spec-wide; a stage's own says otherwise
  std::string state_path;                   // the journal, resolved against dir
  std::optional<SpecValue> state_key;       // env:/file: key that seals sensitive values in the journal
  std::optional<SpecValue> state_url;       // a shared PostgreSQL journal instead of the file
  std::optional<SpecValue> state_password;  //   and its password, env:/file: only
  std::optional<NotifySpec> notify;         // [notify]: where a run's milestones are posted
  std::map<std::string, SpecValue> vars;
  std::map<std::string, HostConfig> hosts;
  std::map<std::string, std::vector<std::string>> host_groups;  // [hosts.NAME]: its members, [host.X] names
  std::map<std::string, ProviderInstance> providers;
  std::vector<Resource> resources;                           // in the order the spec writes them
  AddressIndex by_address;                                   // built once the resources are in place (Index)
  std::unordered_map<std::string, std::size_t> stage_index;  // stage name → index in stages
  std::string sha256;  // spec, overlay and --var values together: a saved plan's staleness key
  std::shared_ptr<ReadValues> read = std::make_shared<ReadValues>();
  // By stage: how many rollbacks (from the journal) went back to before it. `${run}` in a
  // resource of stage s is 1 + this: a step taken again after its stage was undone (a
  // snapshot) gets a new name, and the old one is kept.
  std::vector<std::size_t> rollbacks_before;
  std::size_t RunOf(const Resource& r) const {
    return 1 + (r.stage < rollbacks_before.size() ? rollbacks_before[r.stage] : 0);
  }

  // What names its journal (the file's stem, the PostgreSQL journal's key): the spec's name,
  // and the overlay's when one is merged ("launch.lab"), so a rehearsal's runs stay apart.
  std::string JournalName() const { return options.env.empty() ? name : name + "." + options.env; }

  std::optional<std::size_t> FindStage(const std::string& name) const;
  // Whether a failure in `stage` rolls back to the end of the stage before by itself: the
  // stage's on_failure, else the spec's. Never the first stage's: none comes before it.
  bool RollsBackOnFailure(std::size_t stage) const {
    if (stage == 0 || stage >= stages.size()) return false;
    return (stages[stage].on_failure.empty() ? on_failure : stages[stage].on_failure) == "rollback";
  }
  const Resource* Find(std::string_view address) const;
  std::optional<std::size_t> Index(std::string_view address) const { return by_address.Find(resources, address); }
  std::vector<std::string> StageNames() const;
};

struct LoadResult {
  std::unique_ptr<Spec> spec;  // null when there were errors
  std::shared_ptr<SourceSet> sources = std::make_shared<SourceSet>();
  Diagnostics diags;
  std::size_t parses = 1;  // how what loaded was parsed: 1 whole, more in pieces (toml_pieces.h)
};

LoadResult LoadSpec(const std::string& path, const LoadOptions& options, const Registry& registry);

// The keys of a [host.NAME] table: what the loader accepts and docs/spec.md lists.
const std::vector<AttrSchema>& HostKeys();

// For tests and generated specs: the text stands for a file called `path`.
LoadResult LoadSpecText(const std::string& path, std::string text, const LoadOptions& options,
                        const Registry& registry);

// What `r` should be at `stage` (which must be at or after r.stage): base attributes with
// every overlay up to `stage` applied, ${TYPE.NAME.attr} references substituted and, when
// `resolve_secrets`, env:/file: secrets read, then what the spec leaves out filled in as if
// written: an attribute's default_from when it gives a value, else its default_value
// (FillDefaults). `exists` follows `ensure`.
class DesiredCache;
Result<State> Desired(const Spec& spec, const Resource& r, std::size_t stage, bool resolve_secrets,
                      DesiredCache* cache = nullptr);

// Desired() of many resources, each (resource, stage) worked out once: references to other
// resources are looked up here instead of recomputed, so long chains of references stay
// linear (and shallow) when asked for in dependency order.
class DesiredCache {
 public:
  // `keep_all`: every state asked for is kept (one call's cache); otherwise only those others
  // refer to (a plan's, over every resource).
  DesiredCache(const Spec& spec, bool resolve_secrets, bool keep_all = false);
  Result<State> At(std::size_t resource, std::size_t stage);
  // Kept in the cache, whether others refer to it or not; valid as long as the cache.
  Result<const State*> Ref(std::size_t resource, std::size_t stage);

 private:
  const Spec& spec_;
  bool resolve_secrets_;
  std::vector<bool> referenced_;  // only what others refer to is worth keeping; empty: all
  std::unordered_map<std::uint64_t, State> states_;
  std::unordered_map<std::uint64_t, Error> failed_;  // said once, not worked out again by each referrer
};

// Whether an attribute of `r` must never be shown: declared sensitive, written as a secret
// at any stage, or built from a reference to such an attribute.
bool IsSensitive(const Spec& spec, const Resource& r, const std::string& attr);

// Fills each resource's `sensitive_written` once, after loading: one pass over the references
// however long their chains, where asking each attribute by walking them was quadratic.
void IndexSensitive(Spec* spec);

// The names in a table attribute (kStringMap, such as a command's env) whose values must
// never be shown: written as secrets, or built from a sensitive attribute.
std::set<std::string> SensitiveEntries(const Spec& spec, const Resource& r, const std::string& attr);

// Reads an env:NAME or file:PATH secret; `dir` resolves a relative PATH. A file's bytes are
// kept exactly with `keep_bytes` (a file's content); otherwise one trailing newline ("\n" or
// "\r\n") is dropped, as password and key files end with one that is not part of the secret.
Result<std::string> ResolveSecret(const std::string& ref, const std::string& dir, bool keep_bytes = false);

// Whether a string is written as a secret reference.
bool IsSecretRef(const std::string& s);

// The host a resource acts on: the local machine, a [host.NAME], or null for none.
const HostConfig* HostFor(const Spec& spec, const Resource& r);

// A provider instance with its secrets read and the keys it leaves out at their defaults
// (AttrSchema::default_value), ready to hand to a provider.
Result<ProviderConfig> ResolveProvider(const Spec& spec, const ProviderInstance& p);

// The instance a provider table's key names (AttrSchema::names_provider = `kind`): "NAME" or
// "KIND.NAME" for a [provider.KIND.NAME] of the spec; "" when it names none.
std::string NamedInstance(const Spec& spec, const std::string& kind, const std::string& value);

// The target a provider is handed for `r` with `desired` state (its attributes and private
// data): its host, and its provider instance resolved once per `configs` (which must outlive
// the target). The rvalue form takes `desired`'s attributes and private data into the target
// only when it returns one (a plan lends each state to its probe rather than copy it).
Result<Target> TargetFor(const Spec& spec, const Resource& r, State&& desired,
                         std::map<std::string, ProviderConfig>* configs);
inline Result<Target> TargetFor(const Spec& spec, const Resource& r, const State& desired,
                                std::map<std::string, ProviderConfig>* configs) {
  State copy = desired;
  return TargetFor(spec, r, std::move(copy), configs);
}

}  // namespace reconcile
