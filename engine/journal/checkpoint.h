// A journal file's checkpoint: the summary (HistoryFold) of its first `size` bytes, kept
// beside it as JOURNAL.checkpoint, so a command folds only the records written after them
// (ninja's .ninja_log is compacted for the same reason: every run read it whole). A cache,
// never the record: the journal file stays as it is, and a checkpoint that does not match it
// (another journal, one cut back, another reconcile's, a torn write) is not read.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>

#include "engine/journal/history.h"

namespace reconcile {

// Written when this much of the journal has not been summed up by one yet: small journals,
// read in a blink, have none.
inline constexpr off_t kCheckpointEvery = 64 * 1024;

struct Checkpoint {
  off_t size = 0;           // the journal's bytes summed up: whole lines, header included
  std::string head_sha256;  // of the journal's first min(size, kCheckpointHead) bytes
  off_t last_line = 0;      // where the last line of them starts
  std::string last_sha256;  // of that line, newline included
  HistoryFold fold;
};

// The head: the header and the first records, whose times tell one journal from another.
inline constexpr off_t kCheckpointHead = 4096;

// The file's text: the checkpoint (`c`, its fold left out, and `fold`) as one JSON line, the
// summary's states (HistoryFold::WriteJson) as the next, then the SHA-256 of both lines.
std::string CheckpointText(const Checkpoint& c, const HistoryFold& fold);
// nullopt when the text is not a whole checkpoint written by this version of reconcile.
std::optional<Checkpoint> ParseCheckpoint(const std::string& text);

}  // namespace reconcile
