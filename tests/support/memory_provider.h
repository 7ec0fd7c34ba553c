// An in-memory world behind the Provider interface, for the engine's own tests and
// benchmarks (ninja's VirtualFileSystem): resources live in a map, and every call the
// engine makes is recorded so tests can assert the exact sequence.
//
// Types: `mem_item` (no provider instance) and `mem_remote` (needs a [provider.mem.NAME]),
// both identified by `key`; `mem_vault` cannot be deleted without loss; `mem_mirror` copies
// the `value` of the item named by `from` (a sync in miniature: its state follows another's,
// and the provider's Review decides what is shown). Each item is given an `endpoint` when it
// is made (computed: the world's, as an RDS instance's address).
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
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
  void Review(const TypeSchema& type, const State& prior, const State& desired, Diff* diff) override;

  std::map<std::string, State> world;  // by `key`
  std::vector<std::string> calls;      // "probe 3", "create mem_item.a", ...
  std::set<std::string> unreadable;    // keys whose probe fails
  std::set<std::string> failing;       // keys whose apply fails
  std::chrono::milliseconds apply_delay{0};
  std::atomic<int> max_in_flight{0};  // most applies seen running at once

 private:
  std::mutex mu_;  // the executor applies from several threads
  std::atomic<int> in_flight_{0};
  std::map<std::string, int> made_;  // by key, times made: each new one's endpoint differs
};

}  // namespace reconcile
