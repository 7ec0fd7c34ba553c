// The shared journal backend: the same records as the file, one row each, in a PostgreSQL
// database a team's operators all reach. The lock is a session advisory lock — released by
// the server the moment its holder's connection dies, as flock is by the kernel — plus a row
// naming the holder, so a second operator on another machine is told who has it.
//
// The connection is never re-opened behind the caller's back: the advisory lock lives and
// dies with it, so a lost connection ends the run with an error instead.
#include <libpq-fe.h>

#include <cstdlib>
#include <mutex>
#include <thread>

#include "engine/journal/codec.h"
#include "engine/journal/pg_journal.h"
#include "engine/libpq.h"

namespace reconcile {

namespace {

using Params = std::vector<std::string>;
using Rows = std::vector<std::vector<std::string>>;

class PgJournal : public Journal {
 public:
  PgJournal(std::string conninfo, std::string password, std::string shown, std::string name)
      : conninfo_(std::move(conninfo)),
        password_(std::move(password)),
        shown_(std::move(shown)),
        name_(std::move(name)) {}
  ~PgJournal() override { Close(); }

  void Close() override {
    Unlock();
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
  }

  std::string Describe() const override { return shown_ + " (journal '" + name_ + "')"; }

  Status Lock(const LockInfo& me, std::chrono::milliseconds timeout) override {
    std::lock_guard<std::mutex> guard(mu_);
    if (Status s = Connect(); !s) return s;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    bool tried_again = false;
    while (true) {
      auto got = Query("SELECT pg_try_advisory_lock(" + LockKey() + ")", {name_});
      if (!got) return Error{got.error().message};
      if ((*got)[0][0] == "t") break;
      if (std::chrono::steady_clock::now() >= deadline) {
        auto holder = HolderLocked();
        // Released just now (or, in PostgreSQL, taken and not yet named): one more try.
        if (holder.ok() && !*holder && !tried_again) {
          tried_again = true;
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          continue;
        }
        std::optional<LockInfo> who = holder.ok() ? *holder : std::optional<LockInfo>();
        std::string note;
        if (!who || !who->OnThisHost())
          note =
              "\n  If that run's machine is gone, the server ends its session, and the lock with it, within "
              "about two minutes.";
        return Error{LockRefusal(Describe(), who, note), ErrorCode::kRefused};
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    auto row = Query(
        "INSERT INTO reconcile_lock (journal, holder, backend_pid) VALUES ($1, $2, pg_backend_pid()) "
        "ON CONFLICT (journal) DO UPDATE SET holder = EXCLUDED.holder, backend_pid = EXCLUDED.backend_pid",
        {name_, me.ToJson().dump()});
    if (!row) {
      (void)Query("SELECT pg_advisory_unlock(" + LockKey() + ")", {name_});  // best effort: the row's error is the news
      return Error{row.error().message};
    }
    locked_ = true;
    return Status::Ok();
  }

  void Unlock() override {
    std::lock_guard<std::mutex> guard(mu_);
    if (!locked_ || !conn_) return;
    // Best effort: the session's end releases both anyway.
    (void)Query("DELETE FROM reconcile_lock WHERE journal = $1 AND backend_pid = pg_backend_pid()", {name_});
    (void)Query("SELECT pg_advisory_unlock(" + LockKey() + ")", {name_});
    locked_ = false;
  }

  Result<std::optional<LockInfo>> Holder() override {
    std::lock_guard<std::mutex> guard(mu_);
    if (Status s = Connect(); !s) return Error{s.message()};
    return HolderLocked();
  }

  Status ForceUnlock(const std::string& id, bool from_live_holder) override {
    std::lock_guard<std::mutex> guard(mu_);
    if (Status s = Connect(); !s) return s;
    auto rows = Query(
        "SELECT holder, backend_pid, EXISTS (SELECT 1 FROM pg_locks l WHERE l.locktype = 'advisory' AND "
        "l.pid = r.backend_pid AND l.granted) FROM reconcile_lock r WHERE journal = $1",
        {name_});
    if (!rows) return Error{rows.error().message};
    if (rows->empty()) return Error{"the journal " + Describe() + " is not locked"};
    const std::string& text = (*rows)[0][0];
    LockInfo holder = LockInfo::FromJson(nlohmann::json::parse(text, nullptr, false));
    if (holder.id != id)
      return Error{"the lock on " + Describe() + " has id " + (holder.id.empty() ? "(unknown)" : holder.id) + ", not " +
                   id + "; nothing was changed"};
    bool session = (*rows)[0][2] == "t";
    // Its session still holds the lock: the run is alive unless it ran here and its pid is gone.
    // Ending a live run's session does not stop the step it is running: that step finishes,
    // unrecorded, and the next apply runs it again.
    if (session && !holder.EndedHere() && !from_live_holder)
      return Error{"the lock on " + Describe() + " is held by " + holder.Describe() + ", whose session (database pid " +
                   (*rows)[0][1] + ") is still connected: that run is alive" +
                   (holder.OnThisHost() ? "" : " as far as this machine can tell") +
                   "; nothing was changed.\n  Wait for it to finish, or stop it where it runs. Ending its session "
                   "does not stop the step it is running, which then finishes unrecorded and runs again; if that "
                   "is really meant, pass --force"};
    // Only the session still named in the row is ended, and the row only while it names it.
    auto ended = Query(
        "SELECT pg_terminate_backend(r.backend_pid) FROM reconcile_lock r JOIN pg_locks l ON "
        "l.pid = r.backend_pid AND l.locktype = 'advisory' AND l.granted WHERE r.journal = $1 AND "
        "r.holder = $2 AND r.backend_pid <> pg_backend_pid()",
        {name_, text});
    if (!ended)
      return Error{"cannot end the session that holds the lock on " + Describe() + ": " + ended.error().message};
    auto gone = Query("DELETE FROM reconcile_lock WHERE journal = $1 AND holder = $2", {name_, text});
    if (!gone) return Error{gone.error().message};
    return Status::Ok();
  }

  Result<std::vector<JournalRecord>> Read() override {
    std::lock_guard<std::mutex> guard(mu_);
    if (Status s = Connect(); !s) return Error{s.message()};
    // The format this journal was written in: none recorded is format 1 (written before formats
    // were recorded); a newer one is refused before a row is read.
    auto format = Query("SELECT format FROM reconcile_journal_format WHERE journal = $1", {name_});
    if (!format) return format.error();
    if (!format->empty()) {
      Status known = CheckFormat(std::stoll((*format)[0][0]), Describe());
      if (!known)
        return Error{known.message().empty() ? "the journal " + Describe() + " names no journal format it could have"
                                             : known.message()};
    }
    auto rows =
        Query("SELECT seq, at, kind, data, sum FROM reconcile_journal WHERE journal = $1 ORDER BY seq", {name_});
    if (!rows) return rows.error();
    std::vector<JournalRecord> out;
    std::uint64_t seq = 0;
    for (const auto& row : *rows) {
      JournalRecord r;
      r.seq = std::stoull(row[0]);
      r.at = row[1];
      r.kind = row[2];
      r.data = nlohmann::json::parse(row[3], nullptr, false);
      auto damaged = [&](const std::string& why) -> Error {
        return Error{"the journal " + Describe() + " is damaged at seq " + row[0] + ": " + why +
                     ". reconcile will not guess at what happened; inspect its rows (SELECT * FROM reconcile_journal "
                     "WHERE journal = '" +
                     name_ + "' ORDER BY seq)"};
      };
      if (r.data.is_discarded()) return damaged("its data is not JSON");
      if (std::string why = RecordError(r, row[4]); !why.empty()) return damaged(why);
      if (r.seq != seq + 1) return damaged("it follows seq " + std::to_string(seq));
      seq = r.seq;
      out.push_back(std::move(r));
    }
    return out;
  }

  Status Append(JournalRecord* r) override { return AppendSpan(r, 1); }
  Status AppendAll(std::vector<JournalRecord>* records) override {
    return AppendSpan(records->data(), records->size());
  }

  Status Import(const std::vector<JournalRecord>& records) override {
    std::lock_guard<std::mutex> guard(mu_);
    if (Status s = Connect(); !s) return s;
    auto count = Query("SELECT count(*) FROM reconcile_journal WHERE journal = $1", {name_});
    if (!count) return Error{count.error().message};
    if ((*count)[0][0] != "0")
      return Error{"the journal " + Describe() + " already holds " + (*count)[0][0] +
                   " records; nothing was copied (a journal is moved into an empty one)"};
    return Insert(records.data(), records.size());
  }

 private:
  // One lock per journal name, whatever else the database's advisory locks are used for.
  static std::string LockKey() { return "hashtextextended('reconcile journal ' || $1, 0)"; }

  Status Connect() {
    if (conn_) {
      if (PQstatus(conn_) == CONNECTION_OK) return Status::Ok();
      return Error{"the connection to the journal " + Describe() + " was lost" +
                   (locked_ ? ", and the lock with it; nothing more was recorded. Run the command again" : "") + ": " +
                   PQerrorMessage(conn_)};
    }
    if (Status loaded = LoadLibpq(); !loaded)
      return Error{"cannot reach the journal " + Describe() + ": " + loaded.message(), loaded.code()};
    const char* keys[] = {"dbname", "password", "application_name", "connect_timeout", nullptr};
    const char* values[] = {conninfo_.c_str(), password_.empty() ? nullptr : password_.c_str(), "reconcile", "10",
                            nullptr};
    conn_ = PQconnectdbParams(keys, values, 1);
    if (PQstatus(conn_) != CONNECTION_OK) {
      std::string why = PQerrorMessage(conn_);
      PQfinish(conn_);
      conn_ = nullptr;
      while (!why.empty() && why.back() == '\n') why.pop_back();
      return Error{"cannot reach the journal " + Describe() + ": " + why};
    }
    // The server's NOTICEs ("relation already exists, skipping") are not the operator's business.
    PQsetNoticeProcessor(
        conn_, [](void*, const char*) {}, nullptr);
    // Two first runs at once must not both create the tables.
    const char* setup =
        "BEGIN; SELECT pg_advisory_xact_lock(hashtextextended('reconcile journal tables', 0)); "
        "CREATE TABLE IF NOT EXISTS reconcile_journal (journal text NOT NULL, seq bigint NOT NULL, at text NOT NULL, "
        "kind text NOT NULL, data text NOT NULL, sum text NOT NULL, PRIMARY KEY (journal, seq)); "
        "CREATE TABLE IF NOT EXISTS reconcile_lock (journal text PRIMARY KEY, holder text NOT NULL, "
        "backend_pid int NOT NULL); "
        "CREATE TABLE IF NOT EXISTS reconcile_journal_format (journal text PRIMARY KEY, format int NOT NULL); COMMIT";
    PGresult* res = PQexec(conn_, setup);
    bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
    std::string why = PQerrorMessage(conn_);
    PQclear(res);
    if (!ok) {
      PQfinish(conn_);
      conn_ = nullptr;
      return Error{"cannot set up the journal tables in " + Describe() + ": " + why};
    }
    // A holder whose machine vanishes leaves its session (and the lock) open until the server
    // notices: asked to probe the connection, it does within about two minutes, instead of
    // the system's two hours, and no one has to force-unlock a run that is gone.
    PQclear(PQexec(conn_,
                   "SET tcp_keepalives_idle = 60; SET tcp_keepalives_interval = 10; "
                   "SET tcp_keepalives_count = 6"));
    return Status::Ok();
  }

  Result<Rows> Query(const std::string& sql, const Params& params) {
    if (!conn_) return Error{"the journal " + Describe() + " is not connected"};
    std::vector<const char*> values;
    for (const std::string& p : params) values.push_back(p.c_str());
    PGresult* res =
        PQexecParams(conn_, sql.c_str(), static_cast<int>(values.size()), nullptr, values.data(), nullptr, nullptr, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
      std::string why = PQresultErrorMessage(res);
      PQclear(res);
      while (!why.empty() && why.back() == '\n') why.pop_back();
      if (PQstatus(conn_) != CONNECTION_OK)
        return Error{"the connection to the journal " + Describe() + " was lost" +
                     (locked_ ? ", and the lock with it; nothing more was recorded. Run the command again" : "") +
                     ": " + why};
      return Error{"the journal " + Describe() + ": " + why};
    }
    Rows rows(static_cast<std::size_t>(PQntuples(res)));
    for (int i = 0; i < PQntuples(res); ++i)
      for (int c = 0; c < PQnfields(res); ++c) rows[i].push_back(PQgetvalue(res, i, c));
    PQclear(res);
    return rows;
  }

  Result<std::optional<LockInfo>> HolderLocked() {
    // A row whose session no longer holds the advisory lock is a dead run's: no holder.
    auto rows = Query(
        "SELECT holder FROM reconcile_lock r WHERE journal = $1 AND EXISTS (SELECT 1 FROM pg_locks l "
        "WHERE l.locktype = 'advisory' AND l.pid = r.backend_pid AND l.granted)",
        {name_});
    if (!rows) return rows.error();
    if (rows->empty()) return std::optional<LockInfo>();
    auto j = nlohmann::json::parse((*rows)[0][0], nullptr, false);
    LockInfo holder = LockInfo::FromJson(j);
    holder.gone = holder.EndedHere();
    return std::optional<LockInfo>(holder);
  }

  Status AppendSpan(JournalRecord* records, std::size_t n) {
    if (n == 0) return Status::Ok();
    std::lock_guard<std::mutex> guard(mu_);
    if (Status s = Connect(); !s) return s;
    if (!last_seq_) {
      // Nothing is added to a journal a newer reconcile wrote.
      auto format = Query("SELECT format FROM reconcile_journal_format WHERE journal = $1", {name_});
      if (!format) return Error{format.error().message};
      if (!format->empty())
        if (Status known = CheckFormat(std::stoll((*format)[0][0]), Describe()); !known)
          return Error{known.message().empty() ? "the journal " + Describe() + " names no journal format"
                                               : known.message()};
      auto max = Query("SELECT coalesce(max(seq), 0) FROM reconcile_journal WHERE journal = $1", {name_});
      if (!max) return Error{max.error().message};
      last_seq_ = std::stoull((*max)[0][0]);
    }
    std::uint64_t first = *last_seq_ + 1;
    for (std::size_t i = 0; i < n; ++i) {
      records[i].seq = first + i;
      records[i].at = NowUtcMillis();
    }
    if (Status s = Insert(records, n); !s) {
      last_seq_.reset();
      return s;
    }
    last_seq_ = first + n - 1;
    return Status::Ok();
  }

  // The records in one transaction: committed (and so durable) together, or not at all.
  Status Insert(const JournalRecord* records, std::size_t n) {
    if (auto b = Query("BEGIN", {}); !b) return Error{b.error().message};
    // The format it is written in, recorded with its first records (and for a journal older
    // than the record, with its next ones).
    auto format = Query("INSERT INTO reconcile_journal_format (journal, format) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                        {name_, std::to_string(kJournalFormat)});
    if (!format) {
      (void)Query("ROLLBACK", {});  // the failure above is what to say
      return Error{format.error().message};
    }
    for (std::size_t i = 0; i < n; ++i) {
      const JournalRecord& r = records[i];
      auto row =
          Query("INSERT INTO reconcile_journal (journal, seq, at, kind, data, sum) VALUES ($1, $2, $3, $4, $5, $6)",
                {name_, std::to_string(r.seq), r.at, r.kind, r.data.dump(), RecordChecksum(r)});
      if (!row) {
        (void)Query("ROLLBACK", {});  // the failure above is what to say
        return Error{row.error().message};
      }
    }
    if (auto c = Query("COMMIT", {}); !c) return Error{c.error().message};
    return Status::Ok();
  }

  std::string conninfo_;
  std::string password_;
  std::string shown_;
  std::string name_;
  PGconn* conn_ = nullptr;
  bool locked_ = false;
  std::optional<std::uint64_t> last_seq_;
  std::mutex mu_;
};

}  // namespace

std::unique_ptr<Journal> OpenPgJournal(const std::string& url, const std::string& password, const std::string& name) {
  return std::make_unique<PgJournal>(url, password, RedactUrl(url), name);
}

}  // namespace reconcile
