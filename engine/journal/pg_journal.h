// The shared journal backend, in PostgreSQL: a target of its own (reconcile_journal_pg), so the
// engine core does not link libpq; the command line links it and opens it by URL.
#pragma once

#include <memory>
#include <string>

#include "engine/journal/journal.h"

namespace reconcile {

// `url`: a libpq connection URI or string; `password` (may be empty) is passed apart from it
// so it never appears where the URL is shown; `name` tells this journal's rows from others'.
std::unique_ptr<Journal> OpenPgJournal(const std::string& url, const std::string& password, const std::string& name);

}  // namespace reconcile
