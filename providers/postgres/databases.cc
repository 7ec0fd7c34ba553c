#include "providers/postgres/databases.h"

#include <algorithm>

namespace reconcile::pg {

TypeSchema DatabaseType() {
  return {
      .name = "postgres_database",
      .doc = "A PostgreSQL database: that it exists, its owner and encoding, and whether PUBLIC may connect.",
      .attrs =
          {
              // clang-format off
              {.name = "name", .type = AttrType::kString, .required = true, .identity = true,
               .doc = "the database's name"},
              {.name = "owner", .type = AttrType::kString, .doc = "the role that owns it"},
              {.name = "encoding", .type = AttrType::kString,
               .doc = "its encoding when created (\"UTF8\"); it cannot change after"},
              {.name = "public_connect", .type = AttrType::kBool,
               .doc = "whether PUBLIC (every role) has CONNECT on it"},
              // clang-format on
          },
      .provider_kind = "postgres",
      .uses_host = true,  // host = NAME: the server is reached through that host's SSH
      .host_optional = true,
      .delete_irreversible = true,  // dropping it loses its data
  };
}

Result<State> ProbeDatabase(Session& db, const Target& target) {
  const std::string name = StringAttr(target.desired, "name");
  // No datacl means the default privileges, which give PUBLIC CONNECT.
  auto rows = db.Query(
      "SELECT pg_get_userbyid(d.datdba), pg_encoding_to_char(d.encoding), d.datacl IS NULL OR EXISTS "
      "(SELECT 1 FROM aclexplode(d.datacl) a WHERE a.grantee = 0 AND a.privilege_type = 'CONNECT') "
      "FROM pg_database d WHERE d.datname = $1",
      {name});
  if (!rows) return rows.error();
  State s;
  s.attrs["name"] = name;
  if (rows->empty()) return s;
  const Row& r = rows->front();
  s.exists = true;
  s.attrs["owner"] = r[0].value_or("");
  s.attrs["encoding"] = r[1].value_or("");
  s.attrs["public_connect"] = r[2] == std::optional<std::string>("t");
  return s;
}

Result<State> ApplyDatabase(Session& db, const Change& change) {
  const Target& t = change.target;
  const std::string name = StringAttr(t.desired, "name");
  const std::string ident = db.Ident(name);
  if (change.action == Action::kDelete) {
    if (Status s = db.Exec("DROP DATABASE " + ident); !s) return Error{s.message()};
    return State{false, {{"name", name}}};
  }
  auto changed = [&](const std::string& attr) {
    return t.desired.count(attr) &&
           (change.action == Action::kCreate ||
            std::find(change.changed.begin(), change.changed.end(), attr) != change.changed.end());
  };
  const std::string owner = StringAttr(t.desired, "owner");
  if (change.action == Action::kCreate) {
    std::string sql = "CREATE DATABASE " + ident;
    if (!owner.empty()) sql += " OWNER " + db.Ident(owner);
    // template1 may hold another encoding; template0 takes any.
    if (t.desired.count("encoding"))
      sql += " ENCODING " + db.Literal(StringAttr(t.desired, "encoding")) + " TEMPLATE template0";
    if (Status s = db.Exec(sql); !s) return Error{s.message()};
  } else {
    if (changed("encoding"))
      return Error{t.address +
                   ": a database's encoding cannot change once it exists; dump it, create it anew "
                   "with the encoding, and load the dump (or keep encoding = \"" +
                   StringAttr(change.prior.attrs, "encoding") + "\")"};
    if (changed("owner"))
      if (Status s = db.Exec("ALTER DATABASE " + ident + " OWNER TO " + db.Ident(owner)); !s) return Error{s.message()};
  }
  if (changed("public_connect")) {
    auto it = t.desired.find("public_connect");
    bool open = std::get<bool>(it->second);
    // A new database already lets PUBLIC connect; only a revoke is news.
    if (change.action != Action::kCreate || !open)
      if (Status s = db.Exec((open ? "GRANT CONNECT ON DATABASE " : "REVOKE CONNECT ON DATABASE ") + ident +
                             (open ? " TO PUBLIC" : " FROM PUBLIC"));
          !s)
        return Error{s.message()};
  }
  return ProbeDatabase(db, t);
}

}  // namespace reconcile::pg
