#include "providers/postgres/restore.h"

#include <optional>

namespace reconcile::pg {

namespace {

// "public.orders" / "orders" → a quoted name; the schema defaults to the search path.
std::string TableName(Session& db, const std::string& table) {
  std::size_t dot = table.find('.');
  if (dot == std::string::npos) return db.Ident(table);
  return db.Ident(table.substr(0, dot)) + "." + db.Ident(table.substr(dot + 1));
}

// Row counts, in `tables` order; nullopt for a table the database lacks.
Result<std::vector<std::optional<std::int64_t>>> Counts(Session& db, const StringList& tables) {
  std::vector<std::optional<std::int64_t>> out;
  for (const std::string& table : tables) {
    auto present = db.Query("SELECT to_regclass($1) IS NOT NULL", {TableName(db, table)});
    if (!present) return present.error();
    if (present->empty() || present->front()[0] != std::optional<std::string>("t")) {
      out.push_back(std::nullopt);
      continue;
    }
    auto rows = db.Query("SELECT count(*) FROM " + TableName(db, table));
    if (!rows) return rows.error();
    out.push_back(std::stoll(rows->front()[0].value_or("0")));
  }
  return out;
}

// compare_with = "[postgres.NAME:]DATABASE": the source's server (as a target to open) and database.
std::pair<Target, std::string> Source(const Target& t) {
  std::string with = StringAttr(t.desired, "compare_with");
  Target source = t;
  std::size_t colon = with.find(':');
  if (colon == std::string::npos) return {source, with};
  auto it = t.providers.find(with.substr(0, colon));
  source.provider = it == t.providers.end() ? nullptr : it->second;
  source.host = nullptr;  // another server is reached from here, directly
  return {source, with.substr(colon + 1)};
}

std::string Line(const std::string& table, const std::optional<std::int64_t>& n) {
  return table + "=" + (n ? std::to_string(*n) : "missing");
}

}  // namespace

TypeSchema RestoreType() {
  return {
      .name = "postgres_restore",
      .doc =
          "A dump file on a host (pg_dump --format=custom, as postgres_snapshot takes it) restored into a "
          "database by pg_restore on that host, once; then the row counts of the `compare` tables must equal "
          "the source database's. pg_restore reaches the provider's server as the host sees it; the password "
          "goes on standard input. A database that does not exist is created (owned by `owner`; dropped again "
          "if pg_restore fails). A one-shot step: a rollback past it leaves the database (shown as staying); "
          "a restore into an existing database is irreversible.",
      .attrs =
          {
              // clang-format off
              {.name = "database", .type = AttrType::kString, .required = true, .identity = true,
               .doc = "the database restored into"},
              {.name = "dump", .type = AttrType::kString, .required = true, .setting = true, .pattern = "^/.*",
               .pattern_hint = "an absolute path (starting with /)",
               .doc = "absolute path of the dump file on the host"},
              {.name = "compare", .type = AttrType::kStringList, .required = true, .setting = true,
               .doc = "tables (\"orders\" or \"schema.orders\") whose row counts must match the source's"},
              {.name = "compare_with", .type = AttrType::kString, .required = true, .setting = true,
               .names_provider = "postgres",
               .doc = "the source database: \"DATABASE\" on the same server, or \"postgres.NAME:DATABASE\" on "
                      "another [provider.postgres.NAME] (reached from here)"},
              {.name = "clean", .type = AttrType::kBool, .setting = true, .default_value = "false",
               .doc = "pg_restore --clean --if-exists: drop each object before it is restored"},
              {.name = "no_owner", .type = AttrType::kBool, .setting = true, .default_value = "false",
               .doc = "pg_restore --no-owner: objects belong to the provider's user, not to the dump's roles"},
              {.name = "owner", .type = AttrType::kString, .setting = true,
               .doc = "the role that owns the database when the restore creates it"},
              // clang-format on
          },
      .provider_kind = "postgres",
      .uses_host = true,
      .one_shot = true,
      .probe_when_run = true,
  };
}

Result<State> ProbeRestore(const OpenDatabase& open, const Target& t) {
  const std::string database = StringAttr(t.desired, "database");
  State s;
  s.attrs["database"] = database;
  auto server = open(t, "");
  if (!server) return server.error();
  auto rows = (*server)->Query("SELECT 1 FROM pg_database WHERE datname = $1", {database});
  if (!rows) return rows.error();
  // Journaled as the prior: whether the restore made the database, so may drop it on rollback.
  s.attrs["database_existed"] = !rows->empty();
  if (rows->empty()) return s;
  StringList tables = ListAttr(t.desired, "compare");
  auto db = open(t, database);
  if (!db) return db.error();
  auto here = Counts(**db, tables);
  if (!here) return here.error();
  StringList counts;
  bool complete = true;
  for (std::size_t i = 0; i < tables.size(); ++i) {
    counts.push_back(Line(tables[i], (*here)[i]));
    complete &= (*here)[i].has_value();
  }
  s.attrs["counts"] = counts;
  if (!complete) return s;  // not restored: the source need not even be up
  auto [source_server, source_db] = Source(t);
  if (!source_server.provider) return Error{t.address + ": compare_with names no [provider.postgres.NAME] of the spec"};
  auto source = open(source_server, source_db);
  if (!source) return Error{t.address + ": cannot read the source's counts: " + source.error().message};
  auto there = Counts(**source, tables);
  if (!there) return there.error();
  StringList source_counts;
  bool same = true;
  for (std::size_t i = 0; i < tables.size(); ++i) {
    if (!(*there)[i])
      return Error{t.address + ": compare names " + tables[i] + ", which the source database " + source_db +
                   " does not have"};
    source_counts.push_back(Line(tables[i], (*there)[i]));
    same &= (*there)[i] == (*here)[i];
  }
  s.attrs["source_counts"] = source_counts;
  s.exists = same;
  return s;
}

Result<State> ApplyRestore(const OpenDatabase& open, RemoteShell& shell, const Change& change) {
  const Target& t = change.target;
  const std::string database = StringAttr(t.desired, "database");
  auto server = open(t, "");
  if (!server) return server.error();
  Session& admin = **server;
  if (change.action == Action::kDelete) {
    auto existed = BoolAttr(t.desired, "database_existed");
    if (existed.value_or(true)) return change.prior;  // Review marked it irreversible: it stays
    if (Status s = admin.Exec("DROP DATABASE " + admin.Ident(database)); !s)
      return Error{s.message() + " (is something still connected to it?)"};
    return State{false, {{"database", database}, {"database_existed", false}}};
  }
  auto rows = admin.Query("SELECT 1 FROM pg_database WHERE datname = $1", {database});
  if (!rows) return rows.error();
  bool created = rows->empty();
  if (created) {
    std::string sql = "CREATE DATABASE " + admin.Ident(database);
    if (std::string owner = StringAttr(t.desired, "owner"); !owner.empty()) sql += " OWNER " + admin.Ident(owner);
    if (Status s = admin.Exec(sql); !s) return Error{s.message()};
  }
  auto settings = SettingsFor(t);
  if (!settings) return settings.error();
  const std::string dump = StringAttr(t.desired, "dump");
  // The password goes in on standard input, never on a command line another user could see.
  std::vector<std::string> argv = {
      "sh",
      "-c",
      "IFS= read -r PGPASSWORD; export PGPASSWORD; "
      "eval \"f=\\${$#}\"; [ -r \"$f\" ] || { echo \"cannot read the dump $f\" >&2; exit 4; }; "
      "exec pg_restore --no-password --exit-on-error \"$@\"",
      "restore",
      "-h",
      settings->host,
      "-p",
      std::to_string(settings->port),
      "-U",
      settings->user,
      "-d",
      database};
  if (BoolAttr(t.desired, "clean") == true) argv.insert(argv.end(), {"--clean", "--if-exists"});
  if (BoolAttr(t.desired, "no_owner") == true) argv.push_back("--no-owner");
  argv.push_back(dump);
  auto r = shell.Run(argv, settings->password + "\n");
  std::string failure;
  if (!r) failure = r.error().message;
  else if (r->exit_code == 127)
    failure = "pg_restore is not installed on " + shell.Describe() + " (Debian: apt-get install postgresql-client)";
  else if (r->exit_code != 0) failure = "pg_restore of " + dump + " on " + shell.Describe() + " failed: " + r->err;
  if (!failure.empty()) {
    // A database made for this restore goes again, so another try starts from nothing.
    if (created) (void)admin.Exec("DROP DATABASE " + admin.Ident(database));
    return Error{t.address + ": " + failure +
                 (created ? " (the database it was restoring into was dropped again)"
                          : " (" + database + " may hold part of the dump now)")};
  }
  auto after = ProbeRestore(open, t);
  if (!after) return after.error();
  if (!after->exists) {
    auto list = [&](const char* attr) {
      std::string out;
      for (const std::string& e : ListAttr(after->attrs, attr)) out += (out.empty() ? "" : ", ") + e;
      return out;
    };
    return Error{t.address + ": pg_restore finished, but the row counts differ from the source's: here " +
                 list("counts") + "; source " + list("source_counts")};
  }
  return after;
}

void ReviewRestore(const State& prior, const State& desired, Diff* diff) {
  const std::string database = StringAttr(desired.attrs, "database");
  // Counts are what was seen, not state to set: whether they match is `exists`.
  if (diff->action == Action::kUpdate) {
    diff->action = Action::kNone;
    diff->changes.clear();
  }
  if (diff->action == Action::kCreate) {
    // The settings are how it is done, not what differs: shown as one line.
    diff->changes.clear();
    AttrChange what{"restore", {}, {}};
    what.set_summary("pg_restore " + StringAttr(desired.attrs, "dump") + " into " + database +
                     ", then row counts compared with " + StringAttr(desired.attrs, "compare_with"));
    diff->changes.push_back(what);
    if (BoolAttr(prior.attrs, "database_existed").value_or(false)) {
      diff->irreversible = true;
      diff->irreversible_reason = "the database " + database +
                                  " exists already: what the restore adds to it or "
                                  "replaces cannot be taken out again (let the restore create the database to "
                                  "make it reversible)";
    }
  }
  if (diff->action == Action::kDelete && BoolAttr(desired.attrs, "database_existed").value_or(true)) {
    diff->irreversible = true;
    diff->irreversible_reason = "the database " + database +
                                " existed before the restore: it is left as the "
                                "restore made it";
  }
}

}  // namespace reconcile::pg
