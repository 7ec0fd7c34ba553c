#include "providers/postgres/snapshot.h"

#include <sstream>

namespace reconcile::pg {

TypeSchema SnapshotType() {
  return {
      .name = "postgres_snapshot",
      .doc =
          "pg_dump of a database to a file on a host (custom format, for pg_restore), taken once; its size and "
          "SHA-256 are journaled. Never deleted by reconcile. Put `${run}` in its `path` "
          "(`/backups/shop-${run}.dump`): an apply that passes its stage again after a rollback then takes a "
          "new snapshot under a new name, with the rows written since, and keeps the old one.",
      .attrs =
          {
              // clang-format off
              {.name = "database", .type = AttrType::kString, .required = true, .doc = "the database dumped"},
              {.name = "path", .type = AttrType::kString, .required = true, .identity = true,
               .doc = "the file written on the host (its folder must exist)"},
              // clang-format on
          },
      .provider_kind = "postgres",
      .uses_host = true,
  };
}

Result<State> ProbeSnapshot(RemoteShell& shell, const Target& t) {
  const std::string path = StringAttr(t.desired, "path");
  // A link under the name is not taken for the snapshot: in a shared folder it may be anyone's,
  // naming a dump of their making that a restore would load.
  auto r = shell.Run({"sh", "-c",
                      "if [ -L \"$1\" ]; then echo link; elif [ -e \"$1\" ]; then stat -c %s \"$1\" && sha256sum < "
                      "\"$1\"; else echo absent; fi",
                      "snapshot", path});
  if (!r) return r.error();
  if (r->exit_code != 0) return Error{"cannot read " + path + " on " + shell.Describe() + ": " + r->err};
  if (r->out.rfind("link", 0) == 0)
    return Error{path + " on " + shell.Describe() +
                 " is a symbolic link; a snapshot is a file of its own there: remove the link, or give another path"};
  State s;
  s.attrs["path"] = path;
  if (r->out.rfind("absent", 0) == 0) return s;
  std::istringstream in(r->out);
  std::int64_t size = -1;
  std::string sha256;
  in >> size >> sha256;
  if (size < 0 || sha256.size() != 64) return Error{"cannot read " + path + " on " + shell.Describe() + ": " + r->out};
  s.exists = true;
  s.attrs["size"] = size;
  s.attrs["sha256"] = sha256;
  return s;
}

Result<State> TakeSnapshot(RemoteShell& shell, const Settings& server, const Target& t) {
  const std::string path = StringAttr(t.desired, "path");
  const std::string database = StringAttr(t.desired, "database");
  // The password goes in on standard input, never on a command line another user could see;
  // the dump is written beside its name and renamed, so a file under the name is complete. Into
  // a file mktemp made: pg_dump opens what is under a fixed name, a link another user planted
  // in a shared folder included. Not renamed into a folder or a link put at the name since the
  // probe (mv -T would say so, but not every host's mv has it).
  const std::string script =
      "IFS= read -r PGPASSWORD; export PGPASSWORD; umask 077; p=$(mktemp -- \"$5.partial.XXXXXX\") || exit; "
      "pg_dump --format=custom --no-password -h \"$1\" -p \"$2\" -U \"$3\" -d \"$4\" -f \"$p\" && "
      "{ if [ -L \"$5\" ] || [ -d \"$5\" ]; then echo \"$5 is now a link or a folder\" >&2; false; "
      "else mv -f -- \"$p\" \"$5\"; fi; } || { s=$?; rm -f -- \"$p\"; exit $s; }";
  auto r =
      shell.Run({"sh", "-c", script, "snapshot", server.host, std::to_string(server.port), server.user, database, path},
                server.password + "\n");
  if (!r) return r.error();
  if (r->exit_code == 127)
    return Error{"pg_dump is not installed on " + shell.Describe() + " (Debian: apt-get install postgresql-client)"};
  if (r->exit_code != 0)
    return Error{"pg_dump of " + database + " to " + path + " on " + shell.Describe() + " failed: " + r->err};
  return ProbeSnapshot(shell, t);
}

void ReviewSnapshot(Diff* diff) {
  // Taken once: a file under the name is the snapshot, whatever the spec says now (a new
  // snapshot takes a new path). A rollback past it keeps the file: it is what the operator
  // restores from.
  if (diff->action == Action::kDelete || diff->action == Action::kUpdate) {
    diff->action = Action::kNone;
    diff->changes.clear();
  }
}

}  // namespace reconcile::pg
