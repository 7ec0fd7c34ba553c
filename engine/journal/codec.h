// The journal's records as text, in one place for every backend: a record line (the file
// journal's; PostgreSQL stores the same fields in columns, the same checksum beside them), the
// check a read record passes, and the format version a journal declares. A journal written by
// a newer reconcile (a higher format) is refused as such, never called damaged; one without a
// version is format 1.
#pragma once

#include <string>

#include "engine/journal/journal.h"

namespace reconcile {

inline constexpr int kJournalFormat = 1;  // what this reconcile writes and reads

// The file journal's first line: {"reconcile_journal":1}.
std::string JournalHeader();

// Whether a format this reconcile reads: Ok, or an Error that names the newer format, or an
// Error with no message (the caller says "damaged") when `format` is not a format at all.
Status CheckFormat(long long format, const std::string& journal);
// The same for the file journal's first line; `is_header` false when it is not a header.
Status CheckHeader(const std::string& line, const std::string& journal, bool* is_header);

// One record as a line of the file journal (no newline), checksum included.
std::string EncodeLine(const JournalRecord& r);

// A record line read back: the record, or why it is not one ("not a JSON record", "its
// checksum does not match its content", or what field is wrong). `intact` says whether it was
// whole (parsed, checksum right): a line that is not may be the torn last one of a crash.
Result<JournalRecord> DecodeLine(const std::string& line, bool* intact);

// What every backend checks of a record it reads: its checksum (as stored beside it) and the
// types of its fields; "" when it passes.
std::string RecordError(const JournalRecord& r, const std::string& sum);

}  // namespace reconcile
