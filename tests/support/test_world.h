// What most engine tests need: a registry with the in-memory provider (and the real
// built-in providers), and a one-call way to load a spec from text and read its errors.
#pragma once

#include <string>

#include "engine/graph/graph.h"
#include "engine/plan/plan.h"
#include "engine/registry.h"
#include "engine/spec/spec.h"
#include "providers/builtin.h"
#include "tests/support/memory_provider.h"

namespace reconcile {

struct TestWorld {
  Registry registry;
  MemoryProvider* mem = nullptr;

  TestWorld() {
    auto p = std::make_unique<MemoryProvider>();
    mem = p.get();
    (void)registry.Add(std::move(p));
    (void)RegisterBuiltinProviders(&registry);
  }

  LoadResult Load(const std::string& text, const LoadOptions& options = {},
                  const std::string& path = "spec.toml") {
    return LoadSpecText(path, text, options, registry);
  }

  // Every error of a load, rendered as the CLI prints it ("" when it loaded).
  static std::string Errors(const LoadResult& r) { return r.diags.Render(*r.sources); }
};

// The header every test spec starts with.
inline const char* kHeader = "version = 1\nname = \"t\"\nstages = [\"one\", \"two\", \"three\"]\n";

}  // namespace reconcile
