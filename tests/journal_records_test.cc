// The typed journal records: each kind written and read back the same, the stored form as
// journal.h documents it, and a kind this reconcile does not know read past.
#include <doctest/doctest.h>

#include "engine/journal/records.h"

namespace reconcile {

namespace {

journal::Entry RoundTrip(const journal::Entry& e) {
  auto back = journal::Decode(journal::Encode(e));
  REQUIRE(back.has_value());
  return *back;
}

}  // namespace

TEST_CASE("every record kind reads back as written") {
  auto b =
      std::get<journal::Begin>(RoundTrip(journal::Begin{"rollback", "abc", "op@host", "", "dns", {"cut", "after"}}));
  CHECK(b.op == "rollback");
  CHECK(b.to == "dns");
  CHECK(b.undo == std::vector<std::string>{"cut", "after"});
  CHECK(b.holder == "op@host");
  auto a = std::get<journal::Begin>(RoundTrip(journal::Begin{"apply", "abc", "op@host", "cut"}));
  CHECK(a.through == "cut");
  CHECK(a.undo.empty());

  nlohmann::json prior = {{"exists", true}, {"attrs", {{"ttl", 300}}}};
  auto i = std::get<journal::Intent>(
      RoundTrip(journal::Intent{"apply", "s", "dns_record.www", "dns_record", "update", prior, {}}));
  CHECK(i.prior == prior);
  CHECK(i.action == "update");
  CHECK(i.type == "dns_record");

  auto d = std::get<journal::Done>(RoundTrip(journal::Done{"apply", "s", "file.x", prior, 7}));
  CHECK(d.closes == std::optional<std::uint64_t>(7));
  CHECK_FALSE(d.stays);
  auto stays = std::get<journal::Done>(RoundTrip(journal::Done{"rollback", "s", "command.x", {}, std::nullopt, true}));
  CHECK(stays.stays);
  CHECK_FALSE(stays.closes);

  CHECK(std::get<journal::Failed>(RoundTrip(journal::Failed{"apply", "s", "file.x", "disk full"})).error ==
        "disk full");
  CHECK(std::get<journal::StageComplete>(RoundTrip(journal::StageComplete{"s"})).stage == "s");
  CHECK(std::get<journal::RollbackComplete>(RoundTrip(journal::RollbackComplete{"s", {"t"}})).undone ==
        std::vector<std::string>{"t"});
  CHECK(std::get<journal::End>(RoundTrip(journal::End{"apply", "interrupted"})).result == "interrupted");
}

TEST_CASE("the stored form is the documented one") {
  JournalRecord r = journal::Encode(journal::Done{"rollback", "s", "file.x", {}, std::nullopt, true});
  CHECK(r.kind == "done");
  CHECK(r.data["stays"] == true);
  CHECK_FALSE(r.data.contains("closes"));  // absent, not null: older readers see the old shape
  CHECK(RecordShapeError(r).empty());
  JournalRecord begin = journal::Encode(journal::Begin{"apply", "abc", "op@host", "cut"});
  CHECK(begin.data["through"] == "cut");
  CHECK_FALSE(begin.data.contains("undo"));
}

TEST_CASE("a kind this reconcile does not know is read past") {
  CHECK_FALSE(journal::Decode(JournalRecord{1, "", "checkpoint", {{"stage", "s"}}}).has_value());
  CHECK_FALSE(journal::Decode(JournalRecord{1, "", "done", nlohmann::json::array()}).has_value());
}

TEST_CASE("a field of the wrong type reads as absent, never as an exception") {
  auto d = journal::Decode(JournalRecord{1, "", "done", {{"address", "a"}, {"stays", 1}, {"closes", "x"}}});
  REQUIRE(d.has_value());
  CHECK_FALSE(std::get<journal::Done>(*d).stays);
  CHECK_FALSE(std::get<journal::Done>(*d).closes);
  auto b = journal::Decode(JournalRecord{1, "", "begin", {{"op", "rollback"}, {"undo", "s"}}});
  REQUIRE(b.has_value());
  CHECK(std::get<journal::Begin>(*b).undo.empty());
}

}  // namespace reconcile
