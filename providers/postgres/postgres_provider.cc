#include "providers/postgres/postgres_provider.h"

#include <map>

#include "providers/postgres/databases.h"
#include "providers/postgres/restore.h"
#include "providers/postgres/roles.h"
#include "providers/postgres/snapshot.h"
#include "providers/ssh/host_connections.h"
#include "providers/ssh/tunnel.h"

namespace reconcile {

namespace {

// A session, and the tunnel it goes through when the resource names an SSH host.
struct Connected {
  std::shared_ptr<Tunnel> tunnel;  // declared first: outlives the session using it
  std::unique_ptr<pg::Session> session;
};

}  // namespace

// With `host = NAME` the provider's host and port are as that host sees them: libpq reaches
// them through a local port tunnelled over the run's SSH connection to it.
// `database` (when not "") instead of the provider's own.
static Result<Connected> Connect(HostConnections& hosts, const Target& t, const std::string& database = "") {
  auto settings = pg::SettingsFor(t);
  if (!settings) return settings.error();
  if (!database.empty()) settings->dbname = database;
  Connected c;
  if (t.host && !t.host->local) {
    auto shell = hosts.For(*t.host);
    if (!shell) return shell.error();
    auto tunnel = (*shell)->OpenTunnel(settings->host, settings->port);
    if (!tunnel)
      return Error{settings->where + ": cannot tunnel through " + t.host->name + ": " + tunnel.error().message};
    c.tunnel = *tunnel;
    settings->where.insert(settings->where.size() - 1, " through " + t.host->name);
    settings->host = "127.0.0.1";
    settings->port = c.tunnel->local_port();
  }
  auto session = pg::Session::Open(*settings);
  if (!session) {
    std::string why = c.tunnel ? c.tunnel->last_error() : "";
    return Error{session.error().message + (why.empty() ? "" : " (" + why + ")")};
  }
  c.session = std::move(*session);
  return c;
}

// For restores, which read two databases (and maybe two servers) in one step.
static pg::OpenDatabase Opener(HostConnections& hosts) {
  return [&hosts](const Target& t, const std::string& database) -> Result<std::shared_ptr<pg::Session>> {
    auto c = Connect(hosts, t, database);
    if (!c) return c.error();
    std::shared_ptr<Tunnel> tunnel = c->tunnel;
    return std::shared_ptr<pg::Session>(c->session.release(), [tunnel](pg::Session* s) { delete s; });
  };
}

std::vector<TypeSchema> PostgresProvider::Types() const {
  return {pg::RoleType(), pg::DatabaseType(), pg::SnapshotType(), pg::RestoreType()};
}

std::vector<ProviderKindSchema> PostgresProvider::Kinds() const {
  return {{.kind = "postgres",
           .doc = "A PostgreSQL server, reached with libpq; a superuser (or a role with CREATEROLE and CREATEDB) to "
                  "manage roles and databases, a superuser to roll passwords back.",
           .attrs = {
               // clang-format off
               {.name = "host", .type = AttrType::kString, .default_value = "127.0.0.1",
                .doc = "the server's address"},
               {.name = "port", .type = AttrType::kInt, .default_value = "5432", .doc = "the server's port"},
               {.name = "user", .type = AttrType::kString, .default_value = "postgres",
                .doc = "the role reconcile connects as"},
               {.name = "password", .type = AttrType::kString, .sensitive = true, .secret_ok = true,
                .doc = "the password of `user` (env:NAME or file:PATH)"},
               {.name = "database", .type = AttrType::kString, .default_value = "postgres",
                .doc = "the database it connects to"},
               {.name = "sslmode", .type = AttrType::kString,
                .one_of = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"},
                .default_value = "prefer",
                .doc = "libpq's sslmode (\"verify-full\" checks the server's certificate and name)"},
               // clang-format on
           }}};
}

void PostgresProvider::Probe(std::span<const Target* const> targets, std::vector<Result<State>>* out) {
  out->assign(targets.size(), Error{"not probed"});
  // One session per server (and way to it), opened when its first resource is read.
  std::map<std::string, Result<Connected>> sessions;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    const Target& t = *targets[i];
    if (t.type->name == "postgres_snapshot") {  // a file on a host: no session needed
      auto shell = hosts_->For(*t.host);
      (*out)[i] = shell ? pg::ProbeSnapshot(**shell, t) : Result<State>(shell.error());
      continue;
    }
    if (t.type->name == "postgres_restore") {
      (*out)[i] = pg::ProbeRestore(Opener(*hosts_), t);
      continue;
    }
    auto settings = pg::SettingsFor(t);
    if (!settings) {
      (*out)[i] = settings.error();
      continue;
    }
    std::string key = settings->where + (t.host && !t.host->local ? " through " + t.host->name : "");
    auto it = sessions.find(key);
    if (it == sessions.end()) it = sessions.emplace(key, Connect(*hosts_, t)).first;
    if (!it->second) {
      (*out)[i] = it->second.error();
      continue;
    }
    pg::Session& db = *it->second->session;
    (*out)[i] = t.type->name == "postgres_role" ? pg::ProbeRole(db, t) : pg::ProbeDatabase(db, t);
  }
}

Result<State> PostgresProvider::Apply(const Change& change) {
  if (change.target.type->name == "postgres_snapshot") {
    auto settings = pg::SettingsFor(change.target);
    if (!settings) return settings.error();
    if (change.action != Action::kCreate) return change.prior;  // taken once, never removed
    auto shell = hosts_->For(*change.target.host);
    if (!shell) return shell.error();
    return pg::TakeSnapshot(**shell, *settings, change.target);
  }
  if (change.target.type->name == "postgres_restore") {
    auto shell = hosts_->For(*change.target.host);
    if (!shell) return shell.error();
    return pg::ApplyRestore(Opener(*hosts_), **shell, change);
  }
  auto c = Connect(*hosts_, change.target);
  if (!c) return c.error();
  pg::Session& db = *c->session;
  return change.target.type->name == "postgres_role" ? pg::ApplyRole(db, change) : pg::ApplyDatabase(db, change);
}

void PostgresProvider::Review(const TypeSchema& type, const State& prior, const State& desired, Diff* diff) {
  if (type.name == "postgres_role") pg::ReviewRole(prior, desired, diff);
  if (type.name == "postgres_snapshot") pg::ReviewSnapshot(diff);
  if (type.name == "postgres_restore") pg::ReviewRestore(prior, desired, diff);
}

}  // namespace reconcile
