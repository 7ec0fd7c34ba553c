// The journal: an append-only log of everything apply and rollback did, one JSON record a
// line, each with a sequence number and a checksum, made durable (fsync) before the step it
// announces runs. It is what makes rollback and resume possible, so it is never guessed at:
// a torn last line (a crash mid-write) is dropped; any other damage is an error naming it.
//
// The journal declares its format (codec.h: the file's first line {"reconcile_journal":1},
// PostgreSQL's reconcile_journal_format row); a newer one is refused, not read.
//
// Records (`kind`, then `data`; records.h types them, codec.h writes and checks them):
//   begin            {op: "apply"|"rollback", spec_sha256, holder, through? (apply), to? and
//                    undo? (rollback: the stages it un-completes, before its first step),
//                    env? (the run's --env, since 0.2)}
//   Every record's `at` has milliseconds since 0.2 ("…T22:57:51.490Z"); whole seconds before.
//   intent           {op, stage, address, type, action, prior, desired}   before a step runs
//   done             {op, stage, address, state, closes? (the intent of a cut-off step found
//                    done), stays? (a one-shot step a rollback leaves as it is)}
//   failed           {op, stage, address, error}
//   stage_complete   {stage}                                              checks passed
//   rollback_complete{to, undone}                                         stages after `to` undone
//   end              {op, result: "ok"|"failed"|"stopped"|"interrupted"}
// States are {exists, attrs, private?}; sensitive attributes are sealed (journal key) or left
// out; `private` is the provider's own data (State::private_data), a string kept as it is.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/result.h"

namespace reconcile {

struct JournalRecord {
  std::uint64_t seq = 0;
  std::string at;  // UTC, ISO 8601
  std::string kind;
  nlohmann::json data;
};

// Who holds the journal's lock, as the second operator is told.
struct LockInfo {
  std::string id;
  std::string user;  // user@host
  long pid = 0;
  std::string operation;
  std::string since;
  // The run is known to have ended (it ran on this machine and its pid is gone) while its
  // lock remains: only then is a second operator told to force-unlock.
  bool gone = false;

  std::string Describe() const;
  nlohmann::json ToJson() const;
  // Fields of the wrong type (a hand-edited or damaged lock) are left empty, never thrown.
  static LockInfo FromJson(const nlohmann::json& j);
  static LockInfo Mine(const std::string& operation);
  bool OnThisHost() const;  // the host in `user` is this machine's name
  // Ran on this machine and no process has its pid any more.
  bool EndedHere() const;
};

struct History;

// One backend interface, so the local file can be joined by a shared (PostgreSQL) one.
class Journal {
 public:
  virtual ~Journal() = default;
  virtual std::string Describe() const = 0;  // path or URL, for messages

  // Takes the lock for a whole apply or rollback, waiting up to `timeout`; refuses with the
  // holder's details when someone else has it.
  virtual Status Lock(const LockInfo& me, std::chrono::milliseconds timeout) = 0;
  virtual void Unlock() = 0;
  virtual Result<std::optional<LockInfo>> Holder() = 0;
  // Removes a lock left by a run that can no longer release it; `id` must match. A holder
  // still alive (its flock, its database session with its process) is refused unless
  // `from_live_holder`, which the CLI passes only after the operator confirmed it by name:
  // taking a live run's lock lets two runs write at once, or cuts one off mid-step.
  virtual Status ForceUnlock(const std::string& id, bool from_live_holder) = 0;
  // Gives back what the journal holds outside this process: its lock (and, with it, the file
  // journal's checkpoint), its file, its database connection. The destructor does it too; the
  // command line does it and leaves the memory to the process's exit (engine/cli/session.h).
  // Nothing may be asked of the journal after it.
  virtual void Close() = 0;

  // Every record, in order. A torn last line is dropped; other damage is an Error.
  virtual Result<std::vector<JournalRecord>> Read() = 0;
  // The same, shared instead of copied where the backend keeps them (the file's does): a
  // large journal read by every command was copied whole at each read. An append while one
  // is held copies them then, so a reader holds them no longer than it reads.
  virtual Result<std::shared_ptr<const std::vector<JournalRecord>>> ReadShared() {
    auto records = Read();
    if (!records) return records.error();
    return std::make_shared<const std::vector<JournalRecord>>(std::move(*records));
  }
  // What the records add up to (history.h), which every command reads. The default sums up
  // every record; the file journal only those after its checkpoint (checkpoint.h).
  virtual Result<History> Summary();
  // The same, shared: unchanged since it was last asked for, it is the same one, not a copy.
  virtual Result<std::shared_ptr<const History>> SharedSummary();
  // Appends (assigning seq and time) and returns once the record is durable. Written, its
  // data is the journal's: its states may have been taken into the journal's summary (a run's
  // thousands of states were copied there), so the caller reads its seq and time, not them.
  virtual Status Append(JournalRecord* record) = 0;
  // Appends several, durable together (one sync for a batch of steps); their data as above.
  virtual Status AppendAll(std::vector<JournalRecord>* records) {
    for (JournalRecord& r : *records)
      if (Status s = Append(&r); !s) return s;
    return Status::Ok();
  }
  // Takes another journal's records as they are (seq, time, checksum), all or none, into
  // an empty journal: moving a journal between backends. Refused when this one has records.
  virtual Status Import(const std::vector<JournalRecord>& records) = 0;
};

std::unique_ptr<Journal> OpenFileJournal(const std::string& path);
// The URL with any password taken out, for messages.
std::string RedactUrl(const std::string& url);

// What a second operator is told when `holder` has the lock of `journal`: who it is, and to
// wait for a live one (`remote_note` adds what happens when its machine is gone); only a
// holder known to be gone comes with the way to force-unlock it.
std::string LockRefusal(const std::string& journal, const std::optional<LockInfo>& holder,
                        const std::string& remote_note = "");

// The checksum a record line carries: over seq, at, kind and data, as RecordSummedText writes
// them.
std::string RecordChecksum(const JournalRecord& r);
std::string RecordSummedText(const JournalRecord& r);

// Why a record's data does not have the fields above with their types, or "" when it does.
// Every backend's Read checks it, so readers of the records may take the types as given.
std::string RecordShapeError(const JournalRecord& r);

// "2026-11-26T22:57:51Z": when a lock was taken, when a plan was made.
std::string NowUtc();
// "2026-11-26T22:57:51.490Z": when a record was written. Milliseconds, so a TTL wait ends on
// time and a rehearsal's steps are timed.
std::string NowUtcMillis();
// A record's `at`, with or without milliseconds (journals before them kept whole seconds,
// rounded down).
struct UtcTime {
  std::chrono::system_clock::time_point at;
  bool whole_seconds = true;
};
std::optional<UtcTime> ParseUtc(const std::string& at);

}  // namespace reconcile
