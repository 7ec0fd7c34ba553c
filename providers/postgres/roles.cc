#include "providers/postgres/roles.h"

#include "providers/postgres/password.h"

namespace reconcile::pg {

namespace {

constexpr const char* kUnreadable = "password_unreadable";

}  // namespace

TypeSchema RoleType() {
  return {
      .name = "postgres_role",
      .doc = "A PostgreSQL role: that it exists, whether it may log in, its connection limit and its password.",
      .attrs =
          {
              // clang-format off
              {.name = "name", .type = AttrType::kString, .required = true, .identity = true,
               .doc = "the role's name"},
              {.name = "login", .type = AttrType::kBool, .doc = "whether the role may log in"},
              {.name = "password", .type = AttrType::kString, .sensitive = true, .secret_ok = true,
               .doc = "the password (env:NAME or file:PATH; \"\" = none). Sent to the server as a SCRAM verifier, "
                      "never in clear; the old one is journaled (sealed) so a rollback restores it"},
              {.name = "connection_limit", .type = AttrType::kInt,
               .doc = "connections the role may hold at once (-1 = no limit)"},
              // clang-format on
          },
      .provider_kind = "postgres",
      .uses_host = true,  // host = NAME: the server is reached through that host's SSH
      .host_optional = true,
  };
}

Result<State> ProbeRole(Session& db, const Target& target) {
  const std::string role = StringAttr(target.desired, "name");
  // pg_authid holds the verifier but only a superuser may read it; pg_roles is everyone's.
  auto rows = db.Query("SELECT rolcanlogin, rolconnlimit, rolpassword FROM pg_authid WHERE rolname = $1", {role});
  bool readable = true;
  if (!rows && db.last_state() == "42501") {
    readable = false;
    rows = db.Query("SELECT rolcanlogin, rolconnlimit, NULL FROM pg_roles WHERE rolname = $1", {role});
  }
  if (!rows) return rows.error();
  State s;
  s.attrs["name"] = role;
  if (rows->empty()) return s;
  const Row& r = rows->front();
  s.exists = true;
  s.attrs["login"] = r[0] == std::optional<std::string>("t");
  s.attrs["connection_limit"] = static_cast<std::int64_t>(std::stoll(r[1].value_or("-1")));
  // The stored verifier as it is: Review decides whether it is the wanted password, so the
  // same state compares right against the spec, a rollback target and the journal.
  if (target.desired.count("password")) {
    if (!readable) s.attrs[kUnreadable] = true;
    else s.attrs["password"] = r[2].value_or("");
  }
  return s;
}

Result<State> ApplyRole(Session& db, const Change& change) {
  const Target& t = change.target;
  const std::string role = StringAttr(t.desired, "name");
  if (change.action == Action::kDelete) {
    if (Status s = db.Exec("DROP ROLE " + db.Ident(role)); !s) return Error{s.message()};
    return State{false, {{"name", role}}};
  }
  std::string options;
  auto wants = [&](const std::string& attr) {
    return t.desired.count(attr) &&
           (change.action == Action::kCreate ||
            std::find(change.changed.begin(), change.changed.end(), attr) != change.changed.end());
  };
  if (wants("login")) options += *BoolAttr(t.desired, "login") ? " LOGIN" : " NOLOGIN";
  if (wants("connection_limit"))
    options += " CONNECTION LIMIT " + std::to_string(*IntAttr(t.desired, "connection_limit"));
  if (wants("password")) {
    const std::string password = StringAttr(t.desired, "password");
    if (password.empty()) {
      options += " PASSWORD NULL";
    } else {
      auto verifier = IsVerifier(password) ? Result<std::string>(password) : db.Verifier(password, role);
      if (!verifier) return verifier.error();
      options += " PASSWORD " + db.Literal(*verifier);
    }
  }
  std::string sql = (change.action == Action::kCreate ? "CREATE ROLE " : "ALTER ROLE ") + db.Ident(role);
  if (!options.empty()) sql += " WITH" + options;
  if (change.action == Action::kCreate || !options.empty())
    if (Status s = db.Exec(sql); !s) return Error{s.message()};
  return ProbeRole(db, t);
}

void ReviewRole(const State& prior, const State& desired, Diff* diff) {
  if (!diff->Update("password")) return;
  if (prior.attrs.count("password")) {
    if (PasswordMatches(StringAttr(prior.attrs, "password"), StringAttr(desired.attrs, "password"),
                        StringAttr(desired.attrs, "name")))
      diff->Drop("password");
    return;
  }
  if (prior.attrs.count(kUnreadable) && !diff->irreversible) {
    diff->irreversible = true;
    diff->irreversible_reason =
        "the role's current password cannot be read (pg_authid needs a superuser), so a "
        "rollback could not put it back";
  }
}

}  // namespace reconcile::pg
