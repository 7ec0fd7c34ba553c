// One libpq connection to a [provider.postgres.NAME] server, and the few calls the
// postgres types need: parameterised queries, statements, and quoting by libpq itself.
// Failures are values carrying the server's own message, never exceptions.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/provider.h"
#include "engine/result.h"

struct pg_conn;

namespace reconcile::pg {

// Their defaults are the [provider.postgres.NAME] schema's (PostgresProvider::Kinds()).
struct Settings {
  std::string host;
  int port = 0;
  std::string user;
  std::string password;
  std::string dbname;
  std::string sslmode;
  std::string where;  // "provider.postgres.main (postgres@host:port)", for messages
};

// The settings a target's [provider.postgres.NAME] gives, secrets resolved.
Result<Settings> SettingsFor(const Target& target);

using Row = std::vector<std::optional<std::string>>;  // nullopt = SQL NULL

class Session {
 public:
  static Result<std::unique_ptr<Session>> Open(const Settings& settings);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  Result<std::vector<Row>> Query(const std::string& sql, const std::vector<std::string>& params = {});
  Status Exec(const std::string& sql);

  std::string Ident(const std::string& name) const;    // "name", quoted as libpq does
  std::string Literal(const std::string& text) const;  // 'text', quoted as libpq does
  // The SCRAM-SHA-256 verifier of `password` for `role`, computed here so the plain
  // password never reaches the server's logs.
  Result<std::string> Verifier(const std::string& password, const std::string& role);
  // The SQLSTATE of the last failed call ("42501" = insufficient privilege).
  const std::string& last_state() const { return last_state_; }
  const Settings& settings() const { return settings_; }

 private:
  Session(pg_conn* conn, Settings settings) : conn_(conn), settings_(std::move(settings)) {}
  Error Failed(const std::string& what, const void* result);
  pg_conn* conn_;
  Settings settings_;
  std::string last_state_;
};

}  // namespace reconcile::pg
