// An in-memory world behind the Provider interface, for the engine's own tests and
// benchmarks (ninja's VirtualFileSystem): resources live in a map, and every call the
// engine makes is recorded so tests can assert the exact sequence.
//
// Types: `mem_item` (no provider instance) and `mem_remote` (needs a [provider.mem.NAME]),
// both identified by `key`; `mem_vault` cannot be deleted without loss.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/provider.h"

namespace reconcile {

class MemoryProvider : public Provider {
 public:
  std::string name() const override { return "mem"; }
  std::vector<TypeSchema> Types() const override;
  std::vector<ProviderKindSchema> Kinds() const override;
  void Probe(std::span<const Target* const> targets, std::vector<Result<State>>* out) override;
  Result<State> Apply(const Change& change) override;

  std::map<std::string, State> world;    // by `key`
  std::vector<std::string> calls;        // "probe 3", "create mem_item.a", ...
  std::set<std::string> unreadable;      // keys whose probe fails
};

}  // namespace reconcile
