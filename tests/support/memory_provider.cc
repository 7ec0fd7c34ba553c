#include "tests/support/memory_provider.h"

#include <thread>

#include "engine/plan/diff.h"

namespace reconcile {

namespace {

std::string ValueOf(const std::map<std::string, State>& world, const std::string& key) {
  auto it = world.find(key);
  if (it == world.end()) return "";
  auto v = it->second.attrs.find("value");
  return v == it->second.attrs.end() ? "" : std::get<std::string>(v->second);
}

}  // namespace

std::vector<TypeSchema> MemoryProvider::Types() const {
  // clang-format off
  const AttrSchema key{.name = "key", .required = true, .identity = true, .doc = "identifies the item"};
  std::vector<AttrSchema> attrs = {
      key,
      {.name = "value", .doc = "free text"},
      {.name = "size", .type = AttrType::kInt, .doc = "a number"},
      {.name = "enabled", .type = AttrType::kBool, .doc = "a flag"},
      {.name = "tags", .type = AttrType::kStringList, .unordered = true, .doc = "labels, compared as a set"},
      {.name = "secret", .sensitive = true, .secret_ok = true, .doc = "a credential"},
      {.name = "locked", .type = AttrType::kBool, .irreversible = true, .doc = "once set, cannot be unset"},
      {.name = "color", .one_of = {"red", "green", "blue"}, .doc = "an enumeration"},
      {.name = "wait", .type = AttrType::kDuration, .doc = "a duration"},
      {.name = "password", .sensitive = true, .secret_ok = true, .write_only = true,
       .doc = "a credential the world never tells"},
      {.name = "owned", .type = AttrType::kStringList, .unordered = true, .scoped = true,
       .doc = "items it owns only as named"},
      {.name = "endpoint", .computed = true, .doc = "where it is reached: given when it is made"},
  };
  // clang-format on
  return {
      {.name = "mem_item", .doc = "An item in memory.", .attrs = attrs},
      {.name = "mem_remote", .doc = "An item behind a provider instance.", .attrs = attrs, .provider_kind = "mem"},
      {.name = "mem_vault", .doc = "An item whose deletion loses data.", .attrs = attrs, .delete_irreversible = true},
      {.name = "mem_snapshot", .doc = "An item taken once and kept, as a database snapshot.", .attrs = attrs},
      {.name = "mem_mirror",
       .doc = "A copy of another item's value.",
       .attrs = {key, {.name = "from", .required = true, .doc = "the item whose value it copies"}},
       .probe_when_run = true},
  };
}

std::vector<ProviderKindSchema> MemoryProvider::Kinds() const {
  return {{.kind = "mem",
           .doc = "An in-memory store.",
           .attrs = {{.name = "region", .required = true, .doc = "where the items live"},
                     {.name = "token", .sensitive = true, .secret_ok = true, .doc = "credential"},
                     {.name = "relay", .names_provider = "mem", .doc = "another store it is reached through"}}}};
}

void MemoryProvider::Probe(std::span<const Target* const> targets, std::vector<Result<State>>* out) {
  calls.push_back("probe " + std::to_string(targets.size()));
  out->clear();
  for (const Target* t : targets) {
    const std::string& key = std::get<std::string>(t->desired.at("key"));
    if (unreadable.count(key)) {
      out->push_back(Error{"item '" + key + "' cannot be read"});
      continue;
    }
    auto it = world.find(key);
    State s = it == world.end() ? State{} : it->second;
    s.attrs.erase("password");  // write_only: kept, never told
    if (t->type->name == "mem_mirror" && s.exists) {
      // What the copy lacks, read as the sync reads its two sides: not an attribute of the spec.
      std::string want = ValueOf(world, std::get<std::string>(t->desired.at("from")));
      if (ValueOf(world, key) != want) s.attrs["behind"] = want;
    }
    out->push_back(std::move(s));
  }
}

Result<State> MemoryProvider::Apply(const Change& change) {
  int now = ++in_flight_;
  int seen = max_in_flight.load();
  while (now > seen && !max_in_flight.compare_exchange_weak(seen, now)) {
  }
  if (apply_delay.count() > 0) std::this_thread::sleep_for(apply_delay);
  --in_flight_;
  std::lock_guard<std::mutex> g(mu_);
  const std::string& key = std::get<std::string>(change.target.desired.at("key"));
  calls.push_back(std::string(change.action == Action::kDelete   ? "delete "
                              : change.action == Action::kCreate ? "create "
                                                                 : "update ") +
                  change.target.address);
  if (failing.count(key)) return Error{"item '" + key + "' refused the change"};
  if (change.action == Action::kDelete) {
    world.erase(key);
    return State{};
  }
  State& s = world[key];
  bool made = !s.exists;
  s.exists = true;
  for (const auto& [k, v] : change.target.desired)
    if (k != "endpoint") s.attrs[k] = v;  // computed: the world gives it
  if (made) s.attrs["endpoint"] = key + "-" + std::to_string(++made_[key]) + ".mem.internal";
  if (change.target.type->name == "mem_mirror") {
    s.attrs["value"] = ValueOf(world, std::get<std::string>(change.target.desired.at("from")));
    s.attrs.erase("behind");
  }
  return s;
}

void MemoryProvider::Review(const TypeSchema& type, const State& prior, const State& desired, Diff* diff) {
  if (type.name == "mem_snapshot" && (diff->action == Action::kDelete || diff->action == Action::kUpdate)) {
    diff->action = Action::kNone;  // kept: a rollback past it leaves it
    diff->changes.clear();
    return;
  }
  if (type.name != "mem_mirror" || !prior.exists || !desired.exists) return;
  auto behind = prior.attrs.find("behind");
  if (behind == prior.attrs.end()) return;
  diff->action = Action::kUpdate;
  AttrChange c;
  c.name = "copy";
  c.set_summary("1 value to copy");
  c.set_details({std::get<std::string>(behind->second)});
  diff->changes.push_back(std::move(c));
}

}  // namespace reconcile
