// Reading the world through the providers: a round of resources at a time, one Probe call per
// provider (or probe group) in each.
#include <algorithm>
#include <map>

#include "engine/plan/plan.h"

namespace reconcile {

void ProbeFailures::Add(const std::string& address, const std::string& message) {
  for (auto& [m, addresses] : failed_)
    if (m == message) {
      addresses += ", " + address;
      return;
    }
  failed_.push_back({message, address});
}

Error ProbeFailures::ToError() const {
  std::string errors;
  for (const auto& [message, addresses] : failed_) errors += "\n  " + addresses + ": " + message;
  return Error{"cannot read the current state of:" + errors};
}

void ProbeRound(const Spec& spec, std::vector<std::optional<State>>* want, const std::vector<WrittenOnly>* written,
                const std::vector<std::size_t>& round, std::vector<State>* states, ProbeFailures* failed,
                std::map<std::string, ProviderConfig>* configs) {
  std::vector<std::optional<State>>& first_desired = *want;
  states->assign(round.size(), State{});
  std::map<Provider*, std::vector<std::size_t>> by_provider;  // positions in `round`
  std::vector<Target> targets(round.size());
  for (std::size_t k = 0; k < round.size(); ++k) {
    const std::size_t i = round[k];
    const Resource& r = spec.resources[i];
    if (!first_desired[i]) continue;
    // What it is, how it is reached or how it tells it ran cannot be known before what it
    // refers to exists: nothing to look for yet, and nothing to run with a placeholder in it.
    if (std::any_of(first_desired[i]->unknown.begin(), first_desired[i]->unknown.end(), [&](const std::string& a) {
          const AttrSchema* s = r.schema->Find(a);
          return (s && (s->identity || s->setting)) || a == r.schema->done_check_attr;
        }))
      continue;
    auto t = TargetFor(spec, r, std::move(*first_desired[i]), configs);
    if (!t) {
      failed->Add(r.address, t.error().message);
      continue;
    }
    targets[k] = std::move(*t);
    by_provider[r.provider].push_back(k);
  }
  // Providers of one probe group are asked together; the rest one by one.
  std::map<ProbeGroup*, std::vector<ProbeBatch>> groups;
  for (auto& [provider, positions] : by_provider) {
    ProbeBatch batch{provider, {}, {}};
    batch.targets.reserve(positions.size());
    for (std::size_t k : positions) batch.targets.push_back(&targets[k]);
    groups[provider->probe_group()].push_back(std::move(batch));
  }
  for (auto& [group, batches] : groups) {
    if (group) {
      group->Probe(&batches);
    } else {
      for (ProbeBatch& b : batches) b.provider->Probe(b.targets, &b.out);
    }
  }
  // Each state lent is given back.
  for (std::size_t k = 0; k < round.size(); ++k) {
    Target& t = targets[k];
    if (!first_desired[round[k]] || !t.type) continue;
    first_desired[round[k]]->attrs = std::move(t.desired);
    first_desired[round[k]]->private_data = std::move(t.desired_private);
  }
  std::vector<Target>().swap(targets);
  for (auto& [group, batches] : groups)
    for (ProbeBatch& b : batches) {
      const std::vector<std::size_t>& positions = by_provider[b.provider];
      for (std::size_t k = 0; k < positions.size(); ++k) {
        const std::string& address = spec.resources[round[positions[k]]].address;
        if (k >= b.out.size()) {
          failed->Add(address, "the " + b.provider->name() + " provider returned no state");
        } else if (!b.out[k]) {
          failed->Add(address, b.out[k].error().message);
        } else {
          (*states)[positions[k]] = std::move(b.out[k].value());
        }
      }
      std::vector<Result<State>>().swap(b.out);
    }
  if (!written) return;
  for (std::size_t k = 0; k < round.size(); ++k) {
    const std::size_t i = round[k];
    State& state = (*states)[k];
    if (!first_desired[i] || !state.exists || i >= written->size()) continue;
    const WrittenOnly& w = (*written)[i];
    for (const auto& [attr, v] : w.wrote) {
      auto want_it = first_desired[i]->attrs.find(attr);
      if (want_it == first_desired[i]->attrs.end()) continue;
      auto other = w.or_maybe.find(attr);
      state.attrs.emplace(attr, other != w.or_maybe.end() && want_it->second == v ? other->second : v);
    }
  }
}

Result<std::vector<State>> ProbeResources(const Spec& spec, std::vector<std::optional<State>>* want,
                                          const std::vector<WrittenOnly>* written) {
  const std::size_t n = spec.resources.size();
  std::vector<State> states(n);
  ProbeFailures failed;
  std::vector<std::size_t> round;
  std::vector<State> read;
  std::map<std::string, ProviderConfig> configs;
  for (std::size_t begin = 0; begin < n; begin += kProbeRound) {
    round.clear();
    for (std::size_t i = begin; i < std::min(n, begin + kProbeRound); ++i)
      if ((*want)[i]) round.push_back(i);
    ProbeRound(spec, want, written, round, &read, &failed, &configs);
    for (std::size_t k = 0; k < round.size(); ++k) states[round[k]] = std::move(read[k]);
  }
  if (!failed.empty()) return failed.ToError();
  return states;
}

}  // namespace reconcile
