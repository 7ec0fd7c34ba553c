// What every verb starts from: a Session (engine/run/session.h) with the spec loaded and
// checked (its errors printed) and, for the verbs that need it, the journal opened and read.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>

#include "engine/cli/commands.h"
#include "engine/run/session.h"
#include "engine/run/timings.h"

namespace reconcile {

// A command's session ends with the process. Its end gives the journal back (Journal::Close:
// the lock, the checkpoint, the connection) and leaves the rest of the memory to the exit that
// follows, as ninja's main exits rather than destroy its state: freeing the spec and the
// journal's summary of thousands of resources, piece by piece, took longer than sending a
// zone's changes. Kept reachable, so a leak checker tells it from a leak.
struct EndSession {
  void operator()(Session* session) const;
};
using SessionHandle = std::unique_ptr<Session, EndSession>;

// Null after printing why (spec errors, an unreadable or damaged journal, a bad key).
SessionHandle OpenSession(const Registry& registry, const CommonOptions& common, bool with_journal);

// Before 0.2 a run with --env wrote the spec's own journal: an apply or a rollback that finds
// its --env's journal empty beside one holding runs of that time stops and says how to move it
// (a run would start over, or find nothing to undo, on a world that journal says was changed).
bool RefusedForOldSharedJournal(const Session& session);

// Whether every --rerun names a one-shot step of the spec; fails with the one that does not
// (a typo would otherwise be taken without a word, and the step still held back).
bool RerunNamesSteps(const Spec& spec, const std::set<std::string>& rerun);

// RefreshHistory that prints why it failed.
bool Refresh(Session* session);
// CloseFinishedSteps, said on stderr; false after printing why.
bool CloseFinished(Session* session);

// "reconcile: error: MESSAGE" on stderr; after SetJsonErrors (--json), an "error" event.
void Fail(const std::string& message);

// Written beside `path` and renamed over it (a reader never sees half a file), 0600 (a plan
// or a history holds the world's values); through a symbolic link, the file it names; to a
// FIFO or a device (/dev/stdout), written to as it is. False after saying why not.
// "-", /dev/stdout, /dev/stderr and /dev/fd/N are the descriptors themselves.
bool WriteAtomically(const std::string& path, const std::string& text);
// Whether `path` (given to `flag`, --out or --export) is the spec's own file, an overlay, or the
// journal, its lock or its checkpoint; said, with nothing written.
bool RefusedAsOwnFile(const Session& session, const std::string& flag, const std::string& path);

// The rehearsal timings a plan or an apply shows: from `file` (plan --timings) when given, else
// the spec's other journals (LastRehearsal). False after saying why the file cannot be read.
bool LoadRehearsal(const Spec& spec, const std::string& file, Timings* out);
void SetJsonErrors();

// Asks on the terminal; false without a terminal (the caller says to pass --yes).
bool Confirm(const std::string& question);

// Terraform's approval of a plan shown: on a terminal only the word "yes" goes on; without one
// nothing is asked and `without_terminal` says what to do (--yes). "" when approved, else why
// not, for Fail.
std::string Approve(const std::string& verb, const std::string& question, const std::string& without_terminal);

// The command line that runs `verb` on the same spec, overlay and variables, for the "Next:"
// lines that end a run: "reconcile apply cutover.toml --env lab".
std::string CommandFor(const CommonOptions& common, const std::string& verb);
// "" unless the last run was a rollback that un-completed stages and did not finish (cut off,
// failed, stopped): then a note saying so, how it ended, and both ways on.
std::string UnfinishedRollbackNote(const Spec& spec, const History& history, const CommonOptions& common);

}  // namespace reconcile
