// Journal records whose checksum holds but whose fields have the wrong JSON type (written by
// hand, by another tool, or by a future reconcile): reading them is an error naming the line
// and the field, never an uncaught nlohmann::json::type_error (exit 134).
#include <doctest/doctest.h>

#include <fstream>

#include "engine/journal/history.h"
#include "engine/journal/journal.h"
#include "tests/support/temp_dir.h"

using namespace reconcile;

namespace {

// The error reading a journal whose one record is `kind` with `data`, checksum and all.
std::string ReadError(const std::string& kind, const nlohmann::json& data) {
  TempDir dir;
  std::string path = (dir.path / "j").string();
  {
    auto j = OpenFileJournal(path);
    JournalRecord r{0, "", kind, data};
    REQUIRE(j->Append(&r));
  }
  auto read = OpenFileJournal(path)->Read();
  if (read) {
    Summarize(*read);  // what every command does next; must not throw either
    return "";
  }
  return read.error().message;
}

bool Says(const std::string& error, const std::string& what) {
  if (error.find(what) != std::string::npos) return true;
  MESSAGE("error: " << error);
  return false;
}

}  // namespace

TEST_CASE("a record's fields must have their types") {
  CHECK(
      Says(ReadError("intent", "just a string"), "is damaged at line 2: record 1 (intent): its data is not an object"));
  CHECK(Says(ReadError("intent", {{"address", 12}}), "line 2: record 1 (intent): field 'address' is not a string"));
  CHECK(Says(ReadError("done", {{"stage", nullptr}}), "field 'stage' is not a string"));
  CHECK(Says(ReadError("end", {{"result", true}}), "field 'result' is not a string"));
  CHECK(Says(ReadError("rollback_complete", {{"to", "a"}, {"undone", "b"}}), "field 'undone' is not a list"));
  CHECK(Says(ReadError("rollback_complete", {{"undone", {1, 2}}}),
             "field 'undone' holds something other than stage names"));
  CHECK(Says(ReadError("intent", {{"address", "a"}, {"prior", "x"}}), "field 'prior' is not an object"));
  CHECK(Says(ReadError("intent", {{"prior", {{"exists", "yes"}}}}), "field 'prior.exists' is not true or false"));
  CHECK(Says(ReadError("done", {{"state", {{"attrs", 5}}}}), "field 'state.attrs' is not an object"));
  CHECK(Says(ReadError("done", {{"state", {{"attrs", {{"k", {{"$sealed", 1}}}}}}}}),
             "field 'state.attrs.k.$sealed' is not a string"));
  CHECK(ReadError("intent", {{"address", "a"}, {"prior", nullptr}}).empty());  // a state may be null
  CHECK(ReadError("stage_complete", {{"stage", "one"}}).empty());
  CHECK(ReadError("some_later_kind", {{"extra", {1, 2}}}).empty());  // unknown fields are a later reconcile's
}

TEST_CASE("a kind or time that is not a string is damage, not an exception") {
  TempDir dir;
  std::string path = (dir.path / "j").string();
  std::ofstream(path) << "{\"reconcile_journal\":1}\n{\"seq\":1,\"at\":5,\"kind\":7,\"data\":{},\"sum\":\"0\"}\n"
                         "{\"seq\":2,\"at\":\"x\",\"kind\":\"end\",\"data\":{},\"sum\":\"0\"}\n";
  auto read = OpenFileJournal(path)->Read();
  REQUIRE_FALSE(read);
  CHECK(Says(read.error().message, "is damaged at line 2"));
}
