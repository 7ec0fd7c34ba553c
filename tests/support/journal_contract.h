// What every journal backend must do, as test bodies taking a way to open one journal
// (again and again: a second operator, a later run). journal_test.cc runs them on the file,
// journal_pg_lab_test.cc on PostgreSQL.
#pragma once

#include <doctest/doctest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <memory>

#include "engine/journal/journal.h"

namespace reconcile::contract {

using namespace std::chrono_literals;
using Opener = std::function<std::unique_ptr<Journal>()>;

inline JournalRecord Rec(const std::string& kind, nlohmann::json data) {
  return JournalRecord{0, "", kind, std::move(data)};
}

inline void RecordsInOrderAndReopen(const Opener& open) {
  {
    auto j = open();
    auto empty = j->Read();
    REQUIRE(empty);
    CHECK(empty->empty());
    for (int i = 0; i < 3; ++i) {
      JournalRecord r = Rec("intent", {{"i", i}});
      REQUIRE(j->Append(&r));
      CHECK(r.seq == static_cast<std::uint64_t>(i + 1));
    }
  }
  auto j = open();
  std::vector<JournalRecord> batch = {Rec("done", {{"i", 3}}), Rec("done", {{"i", 4}, {"text", "é\n\"q\""}})};
  REQUIRE(j->AppendAll(&batch));
  CHECK(batch[0].seq == 4);
  CHECK(batch[1].seq == 5);
  auto all = open()->Read();
  REQUIRE(all);
  REQUIRE(all->size() == 5);
  CHECK((*all)[3].kind == "done");
  CHECK((*all)[2].data["i"] == 2);
  CHECK((*all)[4].data["text"] == "é\n\"q\"");
  CHECK((*all)[4].at == batch[1].at);
}

inline void LockRefusesSecondHolder(const Opener& open) {
  auto first = open();
  LockInfo me = LockInfo::Mine("apply");
  REQUIRE(first->Lock(me, 0ms));

  auto second = open();
  auto start = std::chrono::steady_clock::now();
  Status refused = second->Lock(LockInfo::Mine("rollback"), 300ms);
  CHECK(std::chrono::steady_clock::now() - start >= 300ms);  // it waited as long as asked
  REQUIRE_FALSE(refused);
  CHECK(refused.code() == ErrorCode::kRefused);  // a caller may tell a held lock from a broken journal
  CHECK(refused.message().find("is locked by " + me.user + " (pid " + std::to_string(me.pid) + ", apply, since ") !=
        std::string::npos);
  // The holder runs: the second operator is told to wait, never to take its lock.
  CHECK(refused.message().find(", which is still running.") != std::string::npos);
  CHECK(refused.message().find("--lock-timeout") != std::string::npos);
  CHECK(refused.message().find("force-unlock") == std::string::npos);
  auto holder = second->Holder();
  REQUIRE(holder);
  REQUIRE(*holder);
  CHECK((*holder)->id == me.id);
  CHECK_FALSE((*holder)->gone);

  CHECK_FALSE(second->ForceUnlock("not-the-id", false));
  // Not from a live holder, not without being told to.
  Status live = second->ForceUnlock(me.id, false);
  REQUIRE_FALSE(live);
  CHECK(live.message().find("is held by " + me.user) != std::string::npos);
  CHECK(live.message().find("nothing was changed") != std::string::npos);
  CHECK(live.message().find("pass --force") != std::string::npos);
  auto still = second->Holder();
  REQUIRE(still);
  REQUIRE(*still);
  CHECK((*still)->id == me.id);
  CHECK_FALSE(second->Lock(LockInfo::Mine("rollback"), 0ms));
  first->Unlock();
  auto free_now = second->Holder();
  REQUIRE(free_now);
  CHECK_FALSE(*free_now);
  REQUIRE(second->Lock(LockInfo::Mine("rollback"), 0ms));
}

inline void KilledHolderReleasesLock(const Opener& open) {
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    auto j = open();
    bool ok = static_cast<bool>(j->Lock(LockInfo::Mine("apply"), 0ms));
    char c = ok ? 'y' : 'n';
    (void)!::write(ready[1], &c, 1);
    ::pause();
    ::_exit(0);
  }
  char c = 0;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  REQUIRE(c == 'y');
  auto j = open();
  Status refused = j->Lock(LockInfo::Mine("apply"), 0ms);
  REQUIRE_FALSE(refused);
  CHECK(refused.message().find("(pid " + std::to_string(child) + ", apply") != std::string::npos);
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  CHECK(j->Lock(LockInfo::Mine("apply"), 5s));
  ::close(ready[0]);
  ::close(ready[1]);
}

// A live holder's lock taken when the operator insisted: another run may take it at once.
inline void ForceUnlockFromLiveHolderWhenTold(const Opener& open) {
  auto first = open();
  LockInfo me = LockInfo::Mine("apply");
  REQUIRE(first->Lock(me, 0ms));
  auto second = open();
  REQUIRE(second->ForceUnlock(me.id, true));
  CHECK(second->Lock(LockInfo::Mine("apply"), 2s));
}

// `from` holds records; they move into the empty `to` as they are, once.
inline void ImportIntoEmptyOnly(const Opener& from, const Opener& to) {
  auto source = from();
  for (int i = 0; i < 3; ++i) {
    JournalRecord r = Rec("intent", {{"i", i}});
    REQUIRE(source->Append(&r));
  }
  auto records = source->Read();
  REQUIRE(records);
  auto target = to();
  REQUIRE(target->Import(*records));
  auto copied = to()->Read();
  REQUIRE(copied);
  REQUIRE(copied->size() == 3);
  CHECK((*copied)[2].seq == 3);
  CHECK((*copied)[2].at == (*records)[2].at);
  CHECK(RecordChecksum((*copied)[2]) == RecordChecksum((*records)[2]));
  Status again = to()->Import(*records);
  REQUIRE_FALSE(again);
  CHECK(again.message().find("already holds 3 records; nothing was copied") != std::string::npos);
  JournalRecord next = Rec("done", {});
  auto later = to();
  REQUIRE(later->Append(&next));
  CHECK(next.seq == 4);
}

}  // namespace reconcile::contract
