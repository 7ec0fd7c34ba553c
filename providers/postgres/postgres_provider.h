// The PostgreSQL family: `postgres_role`, `postgres_database`, `postgres_snapshot` and
// `postgres_restore` on a [provider.postgres.NAME] server, through libpq (pg_session.h). One
// connection per server for a whole probe or step.
#pragma once

#include <memory>

#include "engine/provider.h"

namespace reconcile {

class HostConnections;

class PostgresProvider : public Provider {
 public:
  // `hosts`: the run's shared connections, where snapshots are written.
  explicit PostgresProvider(std::shared_ptr<HostConnections> hosts) : hosts_(std::move(hosts)) {}
  std::string name() const override { return "postgres"; }
  std::vector<TypeSchema> Types() const override;
  std::vector<ProviderKindSchema> Kinds() const override;
  void Probe(std::span<const Target* const> targets, std::vector<Result<State>>* out) override;
  Result<State> Apply(const Change& change) override;
  void Review(const TypeSchema& type, const State& prior, const State& desired, Diff* diff) override;

 private:
  std::shared_ptr<HostConnections> hosts_;
};

}  // namespace reconcile
