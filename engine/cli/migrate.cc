// `reconcile migrate-journal SPEC [--from FILE]`: a team outgrowing the local file moves its
// journal into PostgreSQL in one command, history and all, so rollback still reaches back
// past the move.
#include <filesystem>
#include <iostream>

#include "engine/cli/session.h"

namespace reconcile {

int RunMigrateJournal(const Registry& registry, const CommonOptions& common, const std::string& from_option) {
  auto session = OpenSession(registry, common, true);
  if (!session) return 1;
  const Spec& spec = session->spec();
  if (!spec.state_url) {
    Fail(
        "the spec's [state] has no url to move the journal to; add url = \"postgres://USER@HOST/DB\" (and "
        "password = \"env:NAME\") under [state], then run this again");
    return 1;
  }
  const std::string from = from_option.empty() ? spec.state_path : from_option;
  if (!std::filesystem::exists(from)) {
    Fail("there is no journal at " + from + " to move; name it with --from");
    return 1;
  }
  auto source = OpenFileJournal(from);
  Journal& target = *session->journal;
  LockInfo me = LockInfo::Mine("migrate-journal");
  if (Status s = source->Lock(me, std::chrono::milliseconds(0)); !s) {
    Fail(s.message());
    return 1;
  }
  if (Status s = target.Lock(me, std::chrono::milliseconds(0)); !s) {
    Fail(s.message());
    return 1;
  }
  auto records = source->Read();
  if (!records) {
    Fail(records.error().message + "\n  nothing was moved");
    return 1;
  }
  if (Status s = target.Import(*records); !s) {
    Fail(s.message());
    return 1;
  }
  auto copied = target.Read();
  if (!copied || copied->size() != records->size() ||
      (!records->empty() && RecordChecksum(copied->back()) != RecordChecksum(records->back()))) {
    Fail("the records read back from " + target.Describe() + " do not match " + from +
         (copied ? "" : ": " + copied.error().message) + "; the file is left as it was");
    return 1;
  }
  const std::string moved = from + ".moved";
  std::error_code ec;
  std::filesystem::rename(from, moved, ec);
  std::cout << "Moved " << records->size() << " records from " << from << " to " << target.Describe() << ".\n";
  if (ec) {
    std::cout << "The file could not be renamed (" << ec.message() << "); remove " << from
              << " yourself so it is not mistaken for the journal.\n";
    return 1;
  }
  std::filesystem::remove(from + ".checkpoint", ec);  // its summary, of no other journal
  std::cout << "The file is kept as " << moved << ".\n";
  return 0;
}

}  // namespace reconcile
