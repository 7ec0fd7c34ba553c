// The journal's records as types: what each kind holds, made into the stored form (a kind
// and its JSON data, which codec.h writes as a line or a row) and read back from it, here
// and nowhere else. Writers build these; readers (history, TTL waits) visit them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/journal/journal.h"

namespace reconcile::journal {

// A run begins. An apply names the last stage it goes through; a rollback the stage it goes
// back to and the stages it un-completes before its first step.
struct Begin {
  std::string op;  // apply | rollback
  std::string spec_sha256;
  std::string holder;             // user@host
  std::string through;            // apply
  std::string to;                 // rollback
  std::vector<std::string> undo;  // rollback
  std::string env;                // --env as given ("" for none): a rehearsal is a run under another
};

// A step is about to run: written (and made durable) before it does. States are sealed.
struct Intent {
  std::string op, stage, address, type, action;
  nlohmann::json prior, desired;
};

// A step's outcome, the state it left (sealed). `closes`: the intent of a cut-off step found
// done since; `stays`: a one-shot step a rollback leaves as it is.
struct Done {
  std::string op, stage, address;
  nlohmann::json state;
  std::optional<std::uint64_t> closes;
  bool stays = false;
};

struct Failed {
  std::string op, stage, address, error;
};

// A stage's checks passed: its checkpoint.
struct StageComplete {
  std::string stage;
};

// A rollback finished: the stages after `to` it undid (listed, so the journal reads right if
// the spec's stages change later).
struct RollbackComplete {
  std::string to;
  std::vector<std::string> undone;
};

struct End {
  std::string op;
  std::string result;  // ok | failed | stopped | interrupted
};

using Entry = std::variant<Begin, Intent, Done, Failed, StageComplete, RollbackComplete, End>;

// The stored form, seq and time left for the journal to give.
JournalRecord Encode(Entry e);
// A record read back; nullopt for a kind this reconcile does not know (read past, as a newer
// minor kind would be). The backends checked its fields' types as they read it
// (RecordShapeError), so a field here is its type or absent.
std::optional<Entry> Decode(const JournalRecord& r);
// The same, taking the record's states rather than copying them (it is left without them).
std::optional<Entry> Decode(JournalRecord&& r);

}  // namespace reconcile::journal
