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
  AttrSchema key{"key", AttrType::kString, "identifies the item"};
  key.required = true;
  key.identity = true;
  AttrSchema tags{"tags", AttrType::kStringList, "labels, compared as a set"};
  tags.unordered = true;
  AttrSchema secret{"secret", AttrType::kString, "a credential"};
  secret.sensitive = true;
  secret.secret_ok = true;
  AttrSchema locked{"locked", AttrType::kBool, "once set, cannot be unset"};
  locked.irreversible = true;
  AttrSchema color{"color", AttrType::kString, "an enumeration"};
  color.one_of = {"red", "green", "blue"};
  std::vector<AttrSchema> attrs = {key,
                                   {"value", AttrType::kString, "free text"},
                                   {"size", AttrType::kInt, "a number"},
                                   {"enabled", AttrType::kBool, "a flag"},
                                   tags,
                                   secret,
                                   locked,
                                   color,
                                   {"wait", AttrType::kDuration, "a duration"}};
  TypeSchema item{"mem_item", "An item in memory.", attrs};
  TypeSchema remote{"mem_remote", "An item behind a provider instance.", attrs};
  remote.provider_kind = "mem";
  TypeSchema vault{"mem_vault", "An item whose deletion loses data.", attrs};
  vault.delete_irreversible = true;
  AttrSchema from{"from", AttrType::kString, "the item whose value it copies"};
  from.required = true;
  TypeSchema mirror{"mem_mirror", "A copy of another item's value.", {key, from}};
  mirror.probe_when_run = true;
  return {item, remote, vault, mirror};
}

std::vector<ProviderKindSchema> MemoryProvider::Kinds() const {
  AttrSchema region{"region", AttrType::kString, "where the items live"};
  region.required = true;
  AttrSchema token{"token", AttrType::kString, "credential"};
  token.secret_ok = true;
  token.sensitive = true;
  return {{"mem", "An in-memory store.", {region, token}}};
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
  s.exists = true;
  for (const auto& [k, v] : change.target.desired) s.attrs[k] = v;
  if (change.target.type->name == "mem_mirror") {
    s.attrs["value"] = ValueOf(world, std::get<std::string>(change.target.desired.at("from")));
    s.attrs.erase("behind");
  }
  return s;
}

void MemoryProvider::Review(const TypeSchema& type, const State& prior, const State& desired, Diff* diff) {
  if (type.name != "mem_mirror" || !prior.exists || !desired.exists) return;
  auto behind = prior.attrs.find("behind");
  if (behind == prior.attrs.end()) return;
  diff->action = Action::kUpdate;
  AttrChange c;
  c.name = "copy";
  c.summary = "1 value to copy";
  c.details = {std::get<std::string>(behind->second)};
  diff->changes.push_back(std::move(c));
}

}  // namespace reconcile
