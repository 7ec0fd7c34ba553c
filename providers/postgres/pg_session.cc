#include "providers/postgres/pg_session.h"

#include <libpq-fe.h>

#include "engine/libpq.h"

namespace reconcile::pg {

namespace {

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Result<Settings> SettingsFor(const Target& target) {
  if (!target.provider) return Error{target.address + ": no [provider.postgres.NAME] for it"};
  const AttrMap& a = target.provider->attrs;
  // Every key but password has a default, filled in by ResolveProvider when not written.
  Settings s;
  s.host = StringAttr(a, "host");
  s.port = static_cast<int>(IntAttr(a, "port").value_or(0));
  s.user = StringAttr(a, "user");
  s.password = StringAttr(a, "password");
  s.dbname = StringAttr(a, "database");
  s.sslmode = StringAttr(a, "sslmode");
  s.where = "provider." + target.provider->name + " (" + s.user + "@" + s.host + ":" + std::to_string(s.port) + ")";
  return s;
}

Result<std::unique_ptr<Session>> Session::Open(const Settings& settings) {
  if (Status loaded = LoadLibpq(); !loaded) return Error{settings.where + ": " + loaded.message(), loaded.code()};
  std::string port = std::to_string(settings.port);
  // Keywords and values, not a connection string: nothing in them needs quoting.
  const char* keys[] = {"host", "port", "user", "password", "dbname", "sslmode", "connect_timeout", "application_name",
                        nullptr};
  const char* values[] = {settings.host.c_str(),
                          port.c_str(),
                          settings.user.c_str(),
                          settings.password.c_str(),
                          settings.dbname.c_str(),
                          settings.sslmode.c_str(),
                          "10",
                          "reconcile",
                          nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, 0);
  if (!conn) return Error{settings.where + ": out of memory connecting"};
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string why = Trim(PQerrorMessage(conn));
    PQfinish(conn);
    return Error{settings.where + ": cannot connect: " + why};
  }
  // NOTICEs would go to stderr in the middle of the progress lines; the results say enough.
  PQsetNoticeProcessor(
      conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<Session>(new Session(conn, settings));
}

Session::~Session() { PQfinish(conn_); }

Error Session::Failed(const std::string& what, const void* result) {
  const PGresult* r = static_cast<const PGresult*>(result);
  const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
  last_state_ = state ? state : "";
  const char* primary = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  std::string why = primary ? primary : Trim(PQerrorMessage(conn_));
  return Error{settings_.where + ": " + what + ": " + why};
}

Result<std::vector<Row>> Session::Query(const std::string& sql, const std::vector<std::string>& params) {
  std::vector<const char*> values;
  for (const std::string& p : params) values.push_back(p.c_str());
  PGresult* r =
      PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    Error e = Failed("query failed", r);
    PQclear(r);
    return e;
  }
  std::vector<Row> rows(PQntuples(r));
  for (int i = 0; i < PQntuples(r); ++i)
    for (int j = 0; j < PQnfields(r); ++j)
      rows[i].push_back(PQgetisnull(r, i, j) ? std::nullopt : std::optional<std::string>(PQgetvalue(r, i, j)));
  PQclear(r);
  last_state_.clear();
  return rows;
}

Status Session::Exec(const std::string& sql) {
  PGresult* r = PQexec(conn_, sql.c_str());
  if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
    // The statement itself is not repeated: it may carry a password verifier.
    Error e = Failed("the change was refused", r);
    PQclear(r);
    return e;
  }
  PQclear(r);
  last_state_.clear();
  return Status::Ok();
}

std::string Session::Ident(const std::string& name) const {
  char* q = PQescapeIdentifier(conn_, name.c_str(), name.size());
  std::string out = q ? q : "\"\"";
  PQfreemem(q);
  return out;
}

std::string Session::Literal(const std::string& text) const {
  char* q = PQescapeLiteral(conn_, text.c_str(), text.size());
  std::string out = q ? q : "''";
  PQfreemem(q);
  return out;
}

Result<std::string> Session::Verifier(const std::string& password, const std::string& role) {
  char* v = PQencryptPasswordConn(conn_, password.c_str(), role.c_str(), "scram-sha-256");
  if (!v) return Error{settings_.where + ": cannot compute the password's verifier: " + Trim(PQerrorMessage(conn_))};
  std::string out = v;
  PQfreemem(v);
  return out;
}

}  // namespace reconcile::pg
