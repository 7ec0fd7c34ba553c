// The PostgreSQL journal against the lab's real server: the same contract as the file
// (journal_contract.h: order, reopening, the lock across processes, moving a journal), then
// what only a database can do to it — a row edited behind its back, a session ended under it.
#include <doctest/doctest.h>

#include <libpq-fe.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>

#include "engine/journal/pg_journal.h"
#include "tests/support/journal_contract.h"
#include "tests/support/lab_env.h"
#include "tests/support/temp_dir.h"

using namespace reconcile;
using namespace std::chrono_literals;

namespace {

struct Lab {
  std::string url;
  std::string password;
};

Lab PgLab() {
  auto env = LabEnv();
  return {"postgres://" + env.at("PG_USER") + "@" + env.at("PG_HOST") + ":" + env.at("PG_PORT") + "/postgres",
          env.at("PG_PASSWORD")};
}

// A journal name no other run of this test uses.
std::string Fresh() {
  static std::atomic<int> n{0};
  return "test-" + std::to_string(::getpid()) + "-" + std::to_string(n++);
}

contract::Opener Pg(const std::string& name) {
  Lab lab = PgLab();
  return [lab, name] { return OpenPgJournal(lab.url, lab.password, name); };
}

// Runs SQL as the lab's superuser, outside any journal.
std::string Sql(const std::string& sql) {
  Lab lab = PgLab();
  const char* keys[] = {"dbname", "password", nullptr};
  const char* values[] = {lab.url.c_str(), lab.password.c_str(), nullptr};
  PGconn* c = PQconnectdbParams(keys, values, 1);
  REQUIRE(PQstatus(c) == CONNECTION_OK);
  PGresult* r = PQexec(c, sql.c_str());
  std::string out = PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
  CHECK_MESSAGE((PQresultStatus(r) == PGRES_TUPLES_OK || PQresultStatus(r) == PGRES_COMMAND_OK), PQerrorMessage(c));
  PQclear(r);
  PQfinish(c);
  return out;
}

}  // namespace

TEST_CASE("records come back in order with sequence numbers, and survive reopening") {
  contract::RecordsInOrderAndReopen(Pg(Fresh()));
}

TEST_CASE("the lock refuses a second holder with the first one's details, and force-unlock needs its id") {
  contract::LockRefusesSecondHolder(Pg(Fresh()));
}

TEST_CASE("force-unlock takes a live holder's lock only when told to") {
  contract::ForceUnlockFromLiveHolderWhenTold(Pg(Fresh()));
}

TEST_CASE("a lock held by a process that is SIGKILLed is released by the server") {
  contract::KilledHolderReleasesLock(Pg(Fresh()));
}

TEST_CASE("a file journal moves into PostgreSQL as it is, once") {
  TempDir dir;
  contract::ImportIntoEmptyOnly([&] { return OpenFileJournal((dir.path / "j").string()); }, Pg(Fresh()));
}

TEST_CASE("journals of different cutovers share the tables, not their records or locks") {
  auto a = Pg(Fresh())();
  auto b = Pg(Fresh())();
  REQUIRE(a->Lock(LockInfo::Mine("apply"), 0ms));
  CHECK(b->Lock(LockInfo::Mine("apply"), 0ms));
  JournalRecord r = contract::Rec("begin", {});
  REQUIRE(a->Append(&r));
  auto none = b->Read();
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("a row changed behind the journal's back is named, never guessed at") {
  std::string name = Fresh();
  auto j = Pg(name)();
  for (int i = 0; i < 3; ++i) {
    JournalRecord r = contract::Rec("intent", {{"i", i}});
    REQUIRE(j->Append(&r));
  }
  Sql("UPDATE reconcile_journal SET data = '{\"i\":9}' WHERE journal = '" + name + "' AND seq = 2");
  auto damaged = Pg(name)()->Read();
  REQUIRE_FALSE(damaged);
  CHECK(damaged.error().message.find("is damaged at seq 2: its checksum does not match") != std::string::npos);

  Sql("DELETE FROM reconcile_journal WHERE journal = '" + name + "' AND seq = 2");
  auto gap = Pg(name)()->Read();
  REQUIRE_FALSE(gap);
  CHECK(gap.error().message.find("at seq 3: it follows seq 1") != std::string::npos);
}

TEST_CASE("a journal written by a newer reconcile is refused as such; one from before formats were recorded is read") {
  std::string name = Fresh();
  auto j = Pg(name)();
  JournalRecord r = contract::Rec("intent", {{"i", 1}});
  REQUIRE(j->Append(&r));
  CHECK(Sql("SELECT format FROM reconcile_journal_format WHERE journal = '" + name + "'") == "1");
  Sql("DELETE FROM reconcile_journal_format WHERE journal = '" + name + "'");  // as an older reconcile left it
  auto older = Pg(name)()->Read();
  REQUIRE(older);
  CHECK(older->size() == 1);
  Sql("INSERT INTO reconcile_journal_format (journal, format) VALUES ('" + name + "', 2)");
  auto newer = Pg(name)()->Read();
  REQUIRE_FALSE(newer);
  CHECK(newer.error().message.find("was written by a newer version of reconcile (journal format 2; this one reads "
                                   "format 1)") != std::string::npos);
  JournalRecord more = contract::Rec("intent", {{"i", 2}});
  CHECK_FALSE(Pg(name)()->Append(&more));
  CHECK(Sql("SELECT count(*) FROM reconcile_journal WHERE journal = '" + name + "'") == "1");
}

TEST_CASE("a session ended under a locked run stops it, and says the lock went too") {
  std::string name = Fresh();
  auto j = Pg(name)();
  REQUIRE(j->Lock(LockInfo::Mine("apply"), 0ms));
  Sql("SELECT pg_terminate_backend(backend_pid) FROM reconcile_lock WHERE journal = '" + name + "'");
  JournalRecord r = contract::Rec("intent", {});
  Status lost = j->Append(&r);
  REQUIRE_FALSE(lost);
  CHECK(lost.message().find("was lost, and the lock with it") != std::string::npos);
  // Another operator may now take it: the server let go with the session.
  CHECK(Pg(name)()->Lock(LockInfo::Mine("apply"), 2s));
}

TEST_CASE("force-unlock leaves a holder whose run is alive, and ends its session only when told to") {
  std::string name = Fresh();
  auto stuck = Pg(name)();
  LockInfo holder = LockInfo::Mine("apply");
  REQUIRE(stuck->Lock(holder, 0ms));
  auto other = Pg(name)();
  Status refused = other->ForceUnlock(holder.id, false);
  REQUIRE_FALSE(refused);
  CHECK(refused.message().find("is still connected: that run is alive; nothing was changed") != std::string::npos);
  CHECK_FALSE(other->Lock(LockInfo::Mine("apply"), 0ms));
  JournalRecord r = contract::Rec("intent", {});
  CHECK(stuck->Append(&r));  // its session was left alone
  REQUIRE(other->ForceUnlock(holder.id, true));
  CHECK(other->Lock(LockInfo::Mine("apply"), 2s));
}

TEST_CASE("a lock whose run ended on this machine but whose session lingers: named gone, and force-unlock takes it") {
  std::string name = Fresh();
  // A run on this machine that is gone (its pid reaped) while its session stays open, as when
  // a process dies and something it spawned keeps the connection.
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) ::_exit(0);
  ::waitpid(child, nullptr, 0);
  LockInfo dead = LockInfo::Mine("apply");
  dead.pid = child;
  Lab lab = PgLab();
  const char* keys[] = {"dbname", "password", nullptr};
  const char* values[] = {lab.url.c_str(), lab.password.c_str(), nullptr};
  PGconn* lingering = PQconnectdbParams(keys, values, 1);
  REQUIRE(PQstatus(lingering) == CONNECTION_OK);
  (void)Pg(name)()->Read();  // the tables
  std::string key = "hashtextextended('reconcile journal ' || '" + name + "', 0)";
  std::string sql = "SELECT pg_advisory_lock(" + key +
                    "); INSERT INTO reconcile_lock (journal, holder, backend_pid) "
                    "VALUES ('" +
                    name + "', '" + dead.ToJson().dump() + "', pg_backend_pid())";
  PGresult* res = PQexec(lingering, sql.c_str());
  REQUIRE(PQresultStatus(res) == PGRES_COMMAND_OK);
  PQclear(res);

  auto other = Pg(name)();
  auto holder = other->Holder();
  REQUIRE(holder);
  REQUIRE(*holder);
  CHECK((*holder)->gone);
  Status refused = other->Lock(LockInfo::Mine("apply"), 0ms);
  REQUIRE_FALSE(refused);
  CHECK(refused.message().find("which has ended on this machine, but its lock remains") != std::string::npos);
  CHECK(refused.message().find("reconcile force-unlock SPEC " + dead.id) != std::string::npos);
  REQUIRE(other->ForceUnlock(dead.id, false));
  CHECK(other->Lock(LockInfo::Mine("apply"), 2s));
  PQfinish(lingering);
}

TEST_CASE("an unreachable server is an error that names it, without a password") {
  auto j = OpenPgJournal("postgres://nobody@127.0.0.1:1/none", "secret-pw", "x");
  auto r = j->Read();
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("cannot reach the journal postgres://nobody@127.0.0.1:1/none") != std::string::npos);
  CHECK(r.error().message.find("secret-pw") == std::string::npos);
  CHECK(RedactUrl("postgres://u:pw@h:5/d") == "postgres://u@h:5/d");
}
