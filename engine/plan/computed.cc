// What the world says of computed attributes (a database's endpoint) that others refer to:
// read before anything works out a value that takes one, so a plan shows it once the
// resource exists, and "(known after apply)" only before.
#include <algorithm>

#include "engine/plan/plan.h"

namespace reconcile {

Status ReadComputed(const Spec& spec, const std::vector<std::size_t>* referrers) {
  const std::size_t n = spec.resources.size();
  std::vector<std::optional<State>> want(n);
  bool any = false;
  auto look_for = [&](const Resource& r) {
    for (const Dependency& d : r.deps) {
      const Resource& t = spec.resources[d.on];
      if (!d.computed || want[d.on]) continue;
      // Found by what identifies it, which no stage changes; a resource the spec retires
      // exists until then, and a reference after that is refused by Desired().
      auto desired = Desired(spec, t, t.stage, false);
      if (!desired || !desired->unknown.empty()) {
        spec.read->Forget(d.on);  // its own plan says why it cannot be worked out
        continue;
      }
      desired->exists = true;
      want[d.on] = std::move(*desired);
      any = true;
    }
  };
  if (referrers) {
    // Through the values they take from others (a value built from one built from the
    // endpoint), each resource once.
    std::vector<bool> seen(n, false);
    std::vector<std::size_t> todo(referrers->begin(), referrers->end());
    while (!todo.empty()) {
      std::size_t i = todo.back();
      todo.pop_back();
      if (seen[i]) continue;
      seen[i] = true;
      look_for(spec.resources[i]);
      for (const Dependency& d : spec.resources[i].deps)
        if (d.kind == Dependency::Kind::kReference && !d.computed) todo.push_back(d.on);
    }
  } else {
    for (const Resource& r : spec.resources) look_for(r);
  }
  if (!any) return Status::Ok();
  auto probed = ProbeResources(spec, &want);
  if (!probed) {
    // Not known, then: a plan or a rollback that needs none of it goes on (an unreachable API
    // must not stop a rollback of DNS), and a step that needs it fails with this cause.
    for (std::size_t i = 0; i < n; ++i)
      if (want[i]) spec.read->Forget(i);
    return referrers ? Status(probed.error()) : Status::Ok();
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!want[i]) continue;
    const State& s = (*probed)[i];
    if (!s.exists) {
      spec.read->Forget(i);
      continue;
    }
    AttrMap read;
    for (const AttrSchema& a : spec.resources[i].schema->attrs)
      if (auto it = s.attrs.find(a.name); a.computed && it != s.attrs.end()) read.emplace(a.name, it->second);
    spec.read->Set(i, std::move(read));
  }
  return Status::Ok();
}

}  // namespace reconcile
