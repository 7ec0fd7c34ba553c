// The file journal against a real file: the backend contract (journal_contract.h), torn
// lines, damage, the lock file, sealing of sensitive values, and what a journal adds up to.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/hash.h"
#include "engine/journal/history.h"
#include "engine/journal/journal.h"
#include "engine/journal/seal.h"

#include "tests/support/journal_contract.h"
#include "tests/support/temp_dir.h"

using namespace reconcile;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

void Put(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary | std::ios::trunc) << text; }

JournalRecord Rec(const std::string& kind, nlohmann::json data) { return JournalRecord{0, "", kind, std::move(data)}; }

}  // namespace

TEST_CASE("records come back in order with sequence numbers, and survive reopening") {
  TempDir dir;
  std::string path = (dir.path / "sub" / "j.journal").string();
  contract::RecordsInOrderAndReopen([&] { return OpenFileJournal(path); });
  CHECK(ReadText(path).rfind("{\"reconcile_journal\":1}\n", 0) == 0);
}

TEST_CASE("a journal moves into an empty one as it is, once") {
  TempDir dir;
  contract::ImportIntoEmptyOnly([&] { return OpenFileJournal((dir.path / "from").string()); },
                                [&] { return OpenFileJournal((dir.path / "to").string()); });
}

TEST_CASE("a torn last line is dropped, and the next record starts on a line of its own") {
  TempDir dir;
  std::string path = (dir.path / "j").string();
  {
    auto j = OpenFileJournal(path);
    JournalRecord a = Rec("intent", {{"address", "file.a"}});
    JournalRecord b = Rec("done", {{"address", "file.a"}});
    REQUIRE(j->Append(&a));
    REQUIRE(j->Append(&b));
  }
  std::string text = ReadText(path);
  // Cut the last record in half, as a crash mid-write would.
  Put(path, text.substr(0, text.size() - 20));
  auto j = OpenFileJournal(path);
  auto read = j->Read();
  REQUIRE(read);
  CHECK(read->size() == 1);
  JournalRecord c = Rec("failed", {{"address", "file.a"}});
  REQUIRE(j->Append(&c));
  CHECK(c.seq == 2);
  auto again = OpenFileJournal(path)->Read();
  REQUIRE(again);
  REQUIRE(again->size() == 2);
  CHECK((*again)[1].kind == "failed");
}

TEST_CASE("a journal written by a newer reconcile is refused as such, never called damaged") {
  TempDir dir;
  std::string path = (dir.path / "j").string();
  {
    auto j = OpenFileJournal(path);
    JournalRecord r = Rec("intent", {{"i", 1}});
    REQUIRE(j->Append(&r));
  }
  std::string good = ReadText(path);
  CHECK(good.rfind("{\"reconcile_journal\":1}\n", 0) == 0);  // the format it writes
  std::string newer = good;
  newer.replace(0, good.find('\n'), "{\"reconcile_journal\":2,\"written_by\":\"reconcile 9\"}");
  Put(path, newer);
  auto r = OpenFileJournal(path)->Read();
  REQUIRE_FALSE(r);
  CHECK(r.error().message ==
        "the journal " + path +
            " was written by a newer version of reconcile (journal format 2; "
            "this one reads format 1): run the reconcile that wrote it, or a newer one. Nothing was "
            "read or changed");
  CHECK(r.error().code == ErrorCode::kNotSupported);
  JournalRecord more = Rec("intent", {{"i", 2}});
  CHECK_FALSE(OpenFileJournal(path)->Append(&more));  // nor is anything added to it
  CHECK(ReadText(path) == newer);
  Put(path, "{\"reconcile_journal\":0}\n");
  auto zero = OpenFileJournal(path)->Read();
  REQUIRE_FALSE(zero);
  CHECK(zero.error().message.find("is damaged at line 1: its header names no journal format") != std::string::npos);
}

TEST_CASE("damage anywhere else is an error that names the line, never a guess") {
  TempDir dir;
  std::string path = (dir.path / "j").string();
  {
    auto j = OpenFileJournal(path);
    for (int i = 0; i < 3; ++i) {
      JournalRecord r = Rec("intent", {{"i", i}});
      REQUIRE(j->Append(&r));
    }
  }
  std::string good = ReadText(path);

  SUBCASE("a changed value breaks the checksum") {
    std::string bad = good;
    bad.replace(bad.find("\"i\":1"), 5, "\"i\":7");
    Put(path, bad);
    auto r = OpenFileJournal(path)->Read();
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("is damaged at line 3: its checksum does not match its content") != std::string::npos);
    CHECK(r.error().message.find("reconcile will not guess") != std::string::npos);
  }
  SUBCASE("a line that is not JSON") {
    std::string bad = good;
    std::size_t second = bad.find('\n', bad.find('\n') + 1);
    bad.insert(second + 1, "garbage\n");
    Put(path, bad);
    auto r = OpenFileJournal(path)->Read();
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("is damaged at line 3: not a JSON record") != std::string::npos);
  }
  SUBCASE("a missing record shows as a gap in the sequence") {
    std::size_t first = good.find('\n');
    std::size_t second = good.find('\n', first + 1);
    Put(path, good.substr(0, first + 1) + good.substr(second + 1));
    auto r = OpenFileJournal(path)->Read();
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("is damaged at line 2: sequence number 2 follows 0") != std::string::npos);
  }
  SUBCASE("a file that is not a journal") {
    Put(path, "hello\nworld\n");
    auto r = OpenFileJournal(path)->Read();
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find(
              "is damaged at line 1: the first line is not a journal header such as {\"reconcile_journal\":1}") !=
          std::string::npos);
  }
  SUBCASE("appending to a damaged journal is refused too") {
    std::string bad = good;
    bad.replace(bad.find("\"i\":0"), 5, "\"i\":9");
    Put(path, bad);
    auto j = OpenFileJournal(path);
    JournalRecord r = Rec("done", {});
    CHECK_FALSE(j->Append(&r));
    CHECK(ReadText(path) == bad);
  }
}

TEST_CASE("the lock refuses a second holder with the first one's details, and force-unlock needs its id") {
  TempDir dir;
  std::string path = (dir.path / "j").string();
  contract::LockRefusesSecondHolder([&] { return OpenFileJournal(path); });
}

TEST_CASE("force-unlock takes a live holder's lock only when told to") {
  TempDir dir;
  std::string path = (dir.path / "j").string();
  contract::ForceUnlockFromLiveHolderWhenTold([&] { return OpenFileJournal(path); });
}

TEST_CASE("a lock file that is a link is refused, not written through") {
  TempDir dir;
  std::string path = (dir.path / "j").string();
  Put((dir.path / "victim").string(), "precious\n");
  std::filesystem::create_symlink(dir.path / "victim", path + ".lock");
  Status refused = OpenFileJournal(path)->Lock(LockInfo::Mine("apply"), 0ms);
  REQUIRE_FALSE(refused);
  CHECK(refused.message() == "the lock file " + path +
                                 ".lock is a symbolic link, which reconcile will not write through; remove it (rm " +
                                 path + ".lock) and run again");
  CHECK(ReadText(dir.path / "victim") == "precious\n");
}

TEST_CASE("a journal is never written through a link another user planted in a folder anyone may write to") {
  TempDir dir;
  std::string path = (dir.path / "j").string();
  Put((dir.path / "victim").string(), "");
  std::filesystem::create_symlink(dir.path / "victim", path);
  REQUIRE(::lchown(path.c_str(), 65534, 65534) == 0);
  REQUIRE(::chmod(dir.path.c_str(), 01777) == 0);  // as /tmp
  JournalRecord r = Rec("done", {{"address", "file.a"}});
  Status refused = OpenFileJournal(path)->Append(&r);
  REQUIRE_FALSE(refused);
  CHECK_MESSAGE(
      refused.message().find("is a symbolic link another user made in a folder anyone may write to; reconcile "
                             "will not write through it") != std::string::npos,
      refused.message());
  CHECK(ReadText(dir.path / "victim") == "");
  // In a folder of the operator's (not sticky and world-writable), any link is followed, as the
  // kernel's protected_symlinks would; in the shared one, the operator's own link is.
  REQUIRE(::chmod(dir.path.c_str(), 0755) == 0);
  REQUIRE(OpenFileJournal(path)->Append(&r));
  CHECK(ReadText(dir.path / "victim").find("file.a") != std::string::npos);
  REQUIRE(::chmod(dir.path.c_str(), 01777) == 0);
  REQUIRE(::lchown(path.c_str(), ::geteuid(), ::getegid()) == 0);
  CHECK(OpenFileJournal(path)->Append(&r));
}

TEST_CASE("a lock file that is another name of a file (a hard link) is refused, not emptied") {
  TempDir dir;
  std::string path = (dir.path / "j").string();
  Put((dir.path / "victim").string(), "precious\n");
  REQUIRE(::link((dir.path / "victim").c_str(), (path + ".lock").c_str()) == 0);
  Status refused = OpenFileJournal(path)->Lock(LockInfo::Mine("apply"), 0ms);
  REQUIRE_FALSE(refused);
  CHECK(refused.message().find("is not a file of its own (another name of a file)") != std::string::npos);
  CHECK(ReadText(dir.path / "victim") == "precious\n");
  // Nor cleared through it by force-unlock, even when what it holds names a holder.
  const std::string lock_json = R"({"id":"X1","user":"u@h","pid":1,"since":"2026-01-01T00:00:00Z","op":"apply"})";
  Put((dir.path / "victim").string(), lock_json + "\n");
  Status cleared = OpenFileJournal(path)->ForceUnlock("X1", true);
  REQUIRE_FALSE(cleared);
  CHECK(cleared.message().find("is not a file of its own (another name of a file)") != std::string::npos);
  CHECK(ReadText(dir.path / "victim") == lock_json + "\n");
}

TEST_CASE("force-unlock never empties what a link in the lock's place names") {
  TempDir dir;
  std::string path = (dir.path / "j").string();
  const std::string lock_json = R"({"id":"X1","user":"u@h","pid":1,"since":"2026-01-01T00:00:00Z","op":"apply"})";
  Put((dir.path / "victim").string(), lock_json + "\n");
  std::filesystem::create_symlink(dir.path / "victim", path + ".lock");
  (void)OpenFileJournal(path)->ForceUnlock("X1", true);
  CHECK(ReadText(dir.path / "victim") == lock_json + "\n");
}

TEST_CASE("a lock file of the wrong shape names an unknown holder instead of crashing") {
  TempDir dir;
  std::string path = (dir.path / "j").string();
  for (const char* text : {R"({"pid":"12"})", R"({"id":5,"user":[],"pid":1e99,"since":{}})", R"([1,2])", "\"x\"",
                           R"({"pid":-4,"id":"abc"})"}) {
    CAPTURE(text);
    Put(path + ".lock", std::string(text) + "\n");
    int fd = ::open((path + ".lock").c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    REQUIRE(::flock(fd, LOCK_EX) == 0);  // held, as a live holder would
    auto j = OpenFileJournal(path);
    auto holder = j->Holder();
    REQUIRE(holder);
    REQUIRE(*holder);
    CHECK((*holder)->Describe().find("(pid ") != std::string::npos);
    Status refused = j->Lock(LockInfo::Mine("apply"), 0ms);
    REQUIRE_FALSE(refused);
    CHECK(refused.message().find("is locked by ") != std::string::npos);
    CHECK_FALSE(j->ForceUnlock("abc", false));
    ::close(fd);
  }
  LockInfo odd = LockInfo::FromJson(nlohmann::json::parse(R"({"pid":"12","user":"u@h","id":7})"));
  CHECK(odd.pid == 0);
  CHECK(odd.user == "u@h");
  CHECK(odd.id.empty());
  CHECK(odd.Describe() == "u@h (pid ?, ?, since ?, lock id ?)");
}

TEST_CASE("a lock held by a process that is SIGKILLed is released by the kernel") {
  TempDir dir;
  std::string path = (dir.path / "j").string();
  contract::KilledHolderReleasesLock([&] { return OpenFileJournal(path); });
}

TEST_CASE("sensitive values are sealed with the key, left out without one") {
  State s{true, {{"path", "/etc/app.env"}, {"content", "PASSWORD=hunter2\n"}}};
  auto sensitive = [](const std::string& a) { return a == "content"; };

  Sealer keyed(std::string("operator key"));
  nlohmann::json sealed = keyed.Seal(s, sensitive);
  CHECK(sealed.dump().find("hunter2") == std::string::npos);
  CHECK(sealed["attrs"]["path"] == "/etc/app.env");
  CHECK(sealed["attrs"]["content"].contains("$sealed"));
  std::set<std::string> unknown;
  auto opened = keyed.Open(sealed, &unknown);
  REQUIRE(opened);
  CHECK(opened->attrs.at("content") == Value("PASSWORD=hunter2\n"));
  CHECK(unknown.empty());

  Sealer other(std::string("another key"));
  auto wrong = other.Open(sealed, &unknown);
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().message.find("does not open with this key") != std::string::npos);

  Sealer none;
  nlohmann::json redacted = none.Seal(s, sensitive);
  CHECK(redacted.dump().find("hunter2") == std::string::npos);
  auto partial = none.Open(redacted, &unknown);
  REQUIRE(partial);
  CHECK_FALSE(partial->attrs.count("content"));
  CHECK(unknown == std::set<std::string>{"content"});
}

TEST_CASE("the journal key is drawn with scrypt and a salt named in each value; values sealed before still open") {
  Sealer keyed(std::string("operator key"));
  auto sealed = keyed.SealText("\"PASSWORD=hunter2\\n\"");
  REQUIRE(sealed);
  CHECK(sealed->rfind("scrypt:15:8:1:", 0) == 0);
  auto opened = keyed.OpenText(*sealed);
  REQUIRE(opened);
  CHECK(*opened == "\"PASSWORD=hunter2\\n\"");
  // Another run with the same key opens it (deriving again from the salt in the value).
  auto again = Sealer(std::string("operator key")).OpenText(*sealed);
  REQUIRE(again);
  CHECK(*again == *opened);
  CHECK_FALSE(Sealer(std::string("another key")).OpenText(*sealed));

  // The salt and the cost are part of the key: changed, the value no longer opens; and the
  // key is not SHA-256 of the operator's key (the old scheme) any more.
  std::size_t last = sealed->rfind(':');
  std::string payload = sealed->substr(last + 1);
  CHECK_FALSE(keyed.OpenText(payload));
  std::string other_salt = "scrypt:15:8:1:" + Base64Encode("0123456789abcdef") + ":" + payload;
  CHECK_FALSE(keyed.OpenText(other_salt));
  std::string cheaper = "scrypt:14" + sealed->substr(std::string("scrypt:15").size());
  CHECK_FALSE(keyed.OpenText(cheaper));
  // A journal cannot make a reader spend unbounded memory or time.
  auto huge = keyed.OpenText("scrypt:40:8:1:" + Base64Encode("0123456789abcdef") + ":" + payload);
  REQUIRE_FALSE(huge);
  CHECK(huge.error().message.find("malformed") != std::string::npos);

  // One salt for a run's values, a fresh one for another run's, the journal's once adopted.
  auto second = keyed.SealText("1");
  REQUIRE(second);
  CHECK(second->substr(0, last) == sealed->substr(0, last));
  Sealer later(std::string("operator key"));
  auto fresh = later.SealText("1");
  REQUIRE(fresh);
  CHECK(fresh->substr(0, last) != sealed->substr(0, last));
  Sealer adopting(std::string("operator key"));
  nlohmann::json record = {{"prior", {{"attrs", {{"content", {{"$sealed", *sealed}}}}}}}};
  auto salt = Sealer::SaltIn(record);
  REQUIRE(salt);
  adopting.AdoptSalt(*salt);
  auto same = adopting.SealText("1");
  REQUIRE(same);
  CHECK(same->substr(0, last) == sealed->substr(0, last));

  // Sealed by an earlier version: AES-256-GCM under SHA-256 of the key, plain base64.
  const std::string old = "dOrmcOndVZqZEu/OIrmC/JRdizqQUC7OkPnyz39Nsbihp6/Lh5vb+moSWLmun0ei";
  auto old_opened = keyed.OpenText(old);
  REQUIRE(old_opened);
  CHECK(*old_opened == "\"PASSWORD=hunter2\\n\"");
  auto state = keyed.Open({{"exists", true}, {"attrs", {{"content", {{"$sealed", old}}}}}}, nullptr);
  REQUIRE(state);
  CHECK(state->attrs.at("content") == Value("PASSWORD=hunter2\n"));
  auto refused = Sealer(std::string("another key")).OpenText(old);
  REQUIRE_FALSE(refused);
  CHECK(refused.error().message.find("does not open with this key") != std::string::npos);
  CHECK_FALSE(Sealer::SaltIn({{"$sealed", old}}));
}

TEST_CASE("history: completed stages, stages a rollback undid, steps never finished, each change's prior") {
  std::vector<JournalRecord> records = {
      {1, "t", "begin", {{"op", "apply"}}},
      {2,
       "t",
       "intent",
       {{"op", "apply"},
        {"stage", "one"},
        {"address", "file.a"},
        {"type", "file"},
        {"action", "create"},
        {"prior", {{"exists", false}}}}},
      {3, "t", "done", {{"op", "apply"}, {"stage", "one"}, {"address", "file.a"}, {"state", {{"exists", true}}}}},
      {4, "t", "stage_complete", {{"stage", "one"}}},
      {5,
       "t",
       "intent",
       {{"op", "apply"},
        {"stage", "two"},
        {"address", "file.a"},
        {"type", "file"},
        {"action", "update"},
        {"prior", {{"exists", true}}}}},
      {6, "t", "done", {{"op", "apply"}, {"stage", "two"}, {"address", "file.a"}, {"state", {{"exists", true}}}}},
      {7, "t", "stage_complete", {{"stage", "two"}}},
      {8, "t", "rollback_complete", {{"to", "one"}, {"undone", {"two"}}}},
      {9,
       "t",
       "intent",
       {{"op", "apply"},
        {"stage", "two"},
        {"address", "file.b"},
        {"type", "file"},
        {"action", "create"},
        {"prior", {{"exists", false}}}}},
  };
  History h = Summarize(records);
  CHECK(h.complete == std::set<std::string>{"one"});
  CHECK(h.NextStage({"one", "two", "three"}) == 1);
  REQUIRE(h.pending.size() == 1);
  CHECK(h.pending[0].address == "file.b");
  REQUIRE(h.resources.at("file.a").steps.size() == 2);
  CHECK(h.resources.at("file.a").steps[0].prior.get()["exists"] == false);
  CHECK(h.resources.at("file.a").steps[1].stage == "two");
  CHECK(h.resources.at("file.a").applied_stages == std::set<std::string>{"one", "two"});
  CHECK(h.last_seq == 9);
}

TEST_CASE("history: a rollback's begin un-completes the stages it undoes before its first step") {
  std::vector<JournalRecord> records = {
      {1, "t", "stage_complete", {{"stage", "one"}}},
      {2, "t", "stage_complete", {{"stage", "two"}}},
      {3, "t", "stage_complete", {{"stage", "three"}}},
      {4, "t", "begin", {{"op", "rollback"}, {"to", "one"}, {"undo", {"two", "three"}}}},
      {5,
       "t",
       "intent",
       {{"op", "rollback"},
        {"stage", "one"},
        {"address", "file.a"},
        {"type", "file"},
        {"action", "delete"},
        {"prior", {{"exists", true}}},
        {"desired", {{"exists", false}}}}},
      {6, "t", "done", {{"op", "rollback"}, {"stage", "one"}, {"address", "file.a"}, {"state", {{"exists", false}}}}},
      // cut off here: no rollback_complete
  };
  History h = Summarize(records);
  CHECK(h.complete == std::set<std::string>{"one"});
  CHECK(h.NextStage({"one", "two", "three"}) == 1);
  const ResourceHistory& a = h.resources.at("file.a");
  CHECK(a.rolled_back);
  CHECK(a.last_op == "rollback");
  CHECK(a.last_desired == nlohmann::json{{"exists", false}});
  // An apply's begin lists nothing to undo.
  records.push_back({7, "t", "begin", {{"op", "apply"}, {"undo", {"one"}}}});
  CHECK(Summarize(records).complete == std::set<std::string>{"one"});
}

TEST_CASE("any bytes survive the journal: content that is not UTF-8 travels as base64") {
  TempDir dir;
  std::string bytes("old\0bytes\r\n\xff\xfe", 13);
  State s{true, {{"content", bytes}, {"tags", StringList{"ok", std::string("\xc3\x28", 2)}}}};
  Sealer none;
  JournalRecord r{0, "", "intent", {{"prior", none.Seal(s, [](const std::string&) { return false; })}}};
  auto j = OpenFileJournal((dir.path / "j").string());
  REQUIRE(j->Append(&r));
  auto back = j->Read();
  REQUIRE(back);
  auto opened = none.Open((*back)[0].data["prior"], nullptr);
  REQUIRE(opened);
  CHECK(opened->attrs.at("content") == Value(bytes));
  CHECK(opened->attrs.at("tags") == Value(StringList{"ok", std::string("\xc3\x28", 2)}));
  CHECK(FormatValue(Value(std::string("\xff", 1))) == "\"\xEF\xBF\xBD\"");  // shown, never a crash
}

TEST_CASE("a record written otherwise than reconcile writes it is checked the long way, and still read") {
  TempDir dir;
  std::string path = (dir.path / "j").string();
  {
    auto j = OpenFileJournal(path);
    JournalRecord r = Rec("intent", {{"i", 1}});
    REQUIRE(j->Append(&r));
  }
  std::string text = ReadText(path);
  std::size_t start = text.find('\n') + 1;
  auto line = nlohmann::json::parse(text.substr(start, text.find('\n', start) - start));
  // The same record, its checksum first: the text the checksum was taken of is not a slice of it.
  std::string sum = line["sum"];
  line.erase("sum");
  std::string moved = "{\"sum\":\"" + sum + "\"," + line.dump().substr(1);
  Put(path, text.substr(0, start) + moved + "\n");
  auto read = OpenFileJournal(path)->Read();
  REQUIRE_MESSAGE(read, read.error().message);
  REQUIRE(read->size() == 1);
  CHECK((*read)[0].data["i"] == 1);
  // And with a value changed, the long way finds the damage too.
  std::string bad = moved;
  bad.replace(bad.find("\"i\":1"), 5, "\"i\":2");
  Put(path, text.substr(0, start) + bad + "\n");
  auto damaged = OpenFileJournal(path)->Read();
  REQUIRE_FALSE(damaged);
  CHECK(damaged.error().message.find("its checksum does not match its content") != std::string::npos);
}

TEST_CASE("records shared with a reader stay as read while the journal grows") {
  TempDir dir;
  auto j = OpenFileJournal((dir.path / "j").string());
  JournalRecord first = Rec("intent", {{"i", 1}});
  REQUIRE(j->Append(&first));
  auto held = j->ReadShared();
  REQUIRE(held);
  REQUIRE((*held)->size() == 1);
  JournalRecord second = Rec("done", {{"i", 2}});
  REQUIRE(j->Append(&second));
  CHECK((*held)->size() == 1);  // copied on the append, not changed under the reader
  auto now = j->ReadShared();
  REQUIRE(now);
  REQUIRE((*now)->size() == 2);
  CHECK((**now)[1].seq == 2);
  auto copy = j->Read();
  REQUIRE(copy);
  CHECK(copy->size() == 2);
}
