// A journal's checkpoint (engine/journal/checkpoint.h): a command sums up only the records
// after it, gets what reading them all gives, and a checkpoint that does not match its
// journal (another journal, one cut back, one altered or torn) is not read.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "engine/hash.h"
#include "engine/journal/checkpoint.h"
#include "engine/journal/codec.h"
#include "engine/journal/history.h"
#include "engine/journal/journal.h"
#include "engine/journal/seal.h"

#include "tests/support/temp_dir.h"

using namespace reconcile;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

void Put(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::binary | std::ios::trunc) << text; }

// 40 KB of notes a state: each run's records outgrow the 64 KiB after which one ends with a
// checkpoint.
nlohmann::json DnsState(bool exists, int ttl) {
  return {{"exists", exists}, {"attrs", {{"ttl", ttl}, {"name", "www"}, {"note", std::string(40000, 'n')}}}};
}

// One run as reconcile writes it: an apply of `stage` that changes each address.
std::vector<JournalRecord> Run(const std::string& op, const std::string& stage,
                               const std::vector<std::string>& addresses, int ttl) {
  using namespace journal;
  std::vector<JournalRecord> out = {
      Encode(Begin{op, "sha", "me@here", op == "apply" ? stage : "", op == "rollback" ? stage : "", {}, ""})};
  for (const std::string& a : addresses) {
    out.push_back(Encode(Intent{op, stage, a, "dns_record", "update", DnsState(true, ttl), DnsState(true, ttl + 1)}));
    out.push_back(Encode(Done{op, stage, a, DnsState(true, ttl + 1), std::nullopt, false}));
  }
  out.push_back(Encode(StageComplete{stage}));
  out.push_back(Encode(End{op, "ok"}));
  return out;
}

// Appends `records` as one locked run, as apply and rollback do; the lock's end writes the
// checkpoint.
void Write(const std::string& path, std::vector<JournalRecord> records) {
  auto j = OpenFileJournal(path);
  REQUIRE(j->Lock(LockInfo::Mine("apply"), 1s));
  REQUIRE(j->AppendAll(&records));
  j->Unlock();
}

// Records folded in order, numbered and timed as a journal would.
void FoldIn(HistoryFold* fold, std::uint64_t* seq, std::vector<JournalRecord> records,
            const std::string& at = "2026-11-27T05:00:00.000Z") {
  for (JournalRecord& r : records) {
    r.seq = ++*seq;
    r.at = at;
    fold->Add(r);
  }
}

// What every command reads, compared whole: the summary's own JSON, pending steps included.
std::string Said(const History& h) {
  nlohmann::json pending = nlohmann::json::array();
  for (const PendingStep& p : h.pending) pending.push_back({p.seq, p.address, p.desired});
  nlohmann::json steps = nlohmann::json::object();
  for (const auto& [address, r] : h.resources)
    for (const StepHistory& s : r.steps) steps[address].push_back({s.seq, s.op, s.stage, s.prior});
  nlohmann::json changes = nlohmann::json::object();
  for (const auto& [address, by_stage] : h.changes_seen)
    for (const auto& [stage, c] : by_stage) changes[address][stage] = {c.seq, c.at, c.prior_numbers};
  nlohmann::json last = nlohmann::json::object();
  for (const auto& [address, r] : h.resources)
    last[address] = {r.last_state, r.last_op, r.last_done, r.last_desired, r.applied_stages, r.rolled_back};
  return nlohmann::json{{"complete", h.complete},
                        {"pending", pending},
                        {"steps", steps},
                        {"changes", changes},
                        {"last", last},
                        {"seq", h.last_seq},
                        {"targets", h.rollback_targets},
                        {"salt", Base64Encode(h.salt)},
                        {"failure", h.last_failure_at},
                        {"begin", h.last_begin_at}}
      .dump();
}

std::string FromAll(const std::string& path) {
  auto records = OpenFileJournal(path)->Read();
  REQUIRE(records);
  return Said(Summarize(*records));
}
std::string FromSummary(const std::string& path) {
  auto summary = OpenFileJournal(path)->Summary();
  REQUIRE(summary);
  return Said(*summary);
}

}  // namespace

TEST_CASE("a checkpoint sums up the journal: what follows it is added, and the summary is the one of every record") {
  TempDir dir;
  std::string path = (dir.path / "j.journal").string();
  Write(path,
        Run("apply", "one",
            {"dns_record.a", "dns_record.b", "dns_record.c", "dns_record.d", "dns_record.e", "dns_record.f"}, 300));
  REQUIRE(fs::exists(path + ".checkpoint"));
  Write(path, Run("apply", "two", {"dns_record.a"}, 60));
  Write(path, Run("rollback", "one", {"dns_record.a"}, 61));
  // A run cut off mid-step: an intent with no outcome, after the last checkpoint.
  {
    auto j = OpenFileJournal(path);
    JournalRecord cut = journal::Encode(journal::Intent{"apply", "two", "dns_record.b", "dns_record", "update",
                                                        DnsState(true, 301), DnsState(true, 5)});
    REQUIRE(j->Append(&cut));
  }
  std::string all = FromAll(path);
  CHECK(FromSummary(path) == all);
  History h = *OpenFileJournal(path)->Summary();
  REQUIRE(h.pending.size() == 1);
  CHECK(h.pending[0].address == "dns_record.b");
  CHECK(h.changes_seen.at("dns_record.a").at("two").prior_numbers == nlohmann::json{{"ttl", 60}});

  SUBCASE("the records before it are not read again") {
    // Damage in what the checkpoint sums up: a whole read says so; the summary is not slowed
    // by it (`reconcile history` reads every record, and checks them all).
    std::string text = ReadText(path);
    std::size_t at = text.rfind("me@here");  // the rollback's begin: past the head, before the last line
    REQUIRE(at != std::string::npos);
    REQUIRE(at > static_cast<std::size_t>(kCheckpointHead));
    Put(path, text.substr(0, at) + "me@thar" + text.substr(at + 7));
    CHECK_FALSE(OpenFileJournal(path)->Read());
    CHECK(FromSummary(path) == all);
  }
  SUBCASE("a journal cut back before its checkpoint is read whole") {
    std::string text = ReadText(path);
    std::size_t keep = 0;
    for (int line = 0; line < 4; ++line) keep = text.find('\n', keep) + 1;
    Put(path, text.substr(0, keep));
    CHECK(FromSummary(path) == FromAll(path));
    CHECK(OpenFileJournal(path)->Summary()->last_seq == 3);
  }
  SUBCASE("another journal under the same name is read whole") {
    std::string checkpoint = ReadText(path + ".checkpoint");
    fs::remove(path);
    Write(path, Run("apply", "one", {"dns_record.z"}, 7));
    Put(path + ".checkpoint", checkpoint);  // the old journal's, left behind
    Write(path, Run("apply", "two", {"dns_record.z", "dns_record.y", "dns_record.x"}, 8));
    CHECK(FromSummary(path) == FromAll(path));
    CHECK(OpenFileJournal(path)->Summary()->resources.count("dns_record.a") == 0);
  }
  SUBCASE("a checkpoint torn or altered is not read") {
    std::string checkpoint = ReadText(path + ".checkpoint");
    Put(path + ".checkpoint", checkpoint.substr(0, checkpoint.size() / 2));
    CHECK(FromSummary(path) == all);
    std::string altered = checkpoint;
    altered[altered.find("dns_record.a")] = 'D';
    Put(path + ".checkpoint", altered);
    CHECK(FromSummary(path) == all);
    Put(path + ".checkpoint", "");
    CHECK(FromSummary(path) == all);
  }
  SUBCASE("what is not a plain file of a summary's size is not read: a FIFO, /dev/zero, a huge file") {
    fs::remove(path + ".checkpoint");
    REQUIRE(::mkfifo((path + ".checkpoint").c_str(), 0600) == 0);
    CHECK(FromSummary(path) == all);  // and returns: opening a FIFO to read would block
    fs::remove(path + ".checkpoint");
    fs::create_symlink("/dev/zero", path + ".checkpoint");
    CHECK(FromSummary(path) == all);
    fs::remove(path + ".checkpoint");
    {
      std::ofstream big(path + ".checkpoint", std::ios::binary);
      big.seekp(static_cast<std::streamoff>(3 * fs::file_size(path) + (2 << 20)));
      big << 'x';
    }
    CHECK(FromSummary(path) == all);
  }
  SUBCASE("appends in the same process are added as they are written") {
    auto j = OpenFileJournal(path);
    REQUIRE(j->Summary());
    std::vector<JournalRecord> more = Run("apply", "three", {"dns_record.c"}, 9);
    REQUIRE(j->AppendAll(&more));
    auto h2 = j->Summary();
    REQUIRE(h2);
    CHECK(Said(*h2) == FromAll(path));
  }
}

TEST_CASE("a summary as JSON reads back as the same summary") {
  HistoryFold fold;
  std::uint64_t seq = 0;
  auto add = [&](std::vector<JournalRecord> records) {
    FoldIn(&fold, &seq, std::move(records), "2026-11-27T05:00:00.123Z");
  };
  add(Run("apply", "one", {"dns_record.a", "file.b"}, 10));
  add(Run("rollback", "one", {"file.b"}, 11));
  // A sealed value: its salt (bytes) is what the next run derives the key with.
  Sealer keyed(std::string("operator key"));
  nlohmann::json sealed =
      keyed.Seal(State{true, {{"content", "PASSWORD=hunter2\n"}}}, [](const std::string&) { return true; });
  add({journal::Encode(journal::Intent{"apply", "two", "file.s", "file", "create", {{"exists", false}}, sealed}),
       journal::Encode(journal::Done{"apply", "two", "file.s", sealed, std::nullopt, false})});
  REQUIRE_FALSE(fold.Result().salt.empty());
  add({journal::Encode(journal::Failed{"apply", "two", "file.b", "no space left"}),
       journal::Encode(
           journal::Intent{"apply", "two", "file.c", "file", "create", {{"exists", false}}, {{"exists", true}}})});
  std::string text, states;
  fold.WriteJson(&text, &states);
  auto back = HistoryFold::FromJson(nlohmann::json::parse(text), states);
  REQUIRE(back);
  CHECK(Said(back->Result()) == Said(fold.Result()));
  CHECK(back->Result().salt == fold.Result().salt);
  CHECK(text.find("hunter2") == std::string::npos);
  CHECK(states.find("hunter2") == std::string::npos);
  CHECK(back->last_seq() == seq);
  CHECK_FALSE(HistoryFold::FromJson(nlohmann::json{{"complete", 3}}, states));
  // A state said to lie past the states read, or anywhere but next, or states left over: not
  // read, the journal is (a state read from the wrong place would be taken for what is there).
  CHECK_FALSE(HistoryFold::FromJson(nlohmann::json::parse(text), states.substr(0, states.size() / 2)));
  CHECK_FALSE(HistoryFold::FromJson(nlohmann::json::parse(text), states + "{}"));
  std::string moved = text;
  std::size_t pair = moved.find("[0,");
  REQUIRE(pair != std::string::npos);
  moved.replace(pair, 3, "[1,");
  CHECK_FALSE(HistoryFold::FromJson(nlohmann::json::parse(moved), states));
}

TEST_CASE("a resource's steps in a row in one stage are kept as the first: the summary grows with the spec") {
  HistoryFold fold;
  std::uint64_t seq = 0;
  for (int run = 0; run < 50; ++run)
    for (JournalRecord r : Run("apply", "switch", {"dns_record.a"}, run)) {
      r.seq = ++seq;
      r.at = "2026-11-27T05:00:00.000Z";
      fold.Add(r);
    }
  History h = fold.Result();
  REQUIRE(h.resources.at("dns_record.a").steps.size() == 1);
  CHECK(h.resources.at("dns_record.a").steps[0].prior.get()["attrs"]["ttl"] == 0);   // the world before the first
  CHECK(h.changes_seen.at("dns_record.a").at("switch").prior_numbers["ttl"] == 49);  // the latest change's
  for (JournalRecord r : Run("apply", "later", {"dns_record.a"}, 99)) {
    r.seq = ++seq;
    r.at = "2026-11-27T05:00:00.000Z";
    fold.Add(r);
  }
  CHECK(fold.Result().resources.at("dns_record.a").steps.size() == 2);
}

TEST_CASE("a summary handed out is shared, not copied, and what the fold adds later never reaches it") {
  HistoryFold fold;
  std::uint64_t seq = 0;
  auto add = [&](std::vector<JournalRecord> records) { FoldIn(&fold, &seq, std::move(records)); };
  add(Run("apply", "one", {"dns_record.a"}, 10));
  std::shared_ptr<const History> held = fold.Shared();
  CHECK(fold.Shared() == held);  // unchanged: the same one
  const std::string before = Said(*held);
  add(Run("apply", "two", {"dns_record.a", "file.b"}, 20));
  CHECK(Said(*held) == before);
  CHECK(held->last_seq == 5);
  CHECK_FALSE(held->resources.count("file.b"));
  CHECK(fold.Shared()->resources.count("file.b"));
  CHECK(Said(*fold.Shared()) == Said(fold.Result()));
  // With a step left open, the summary lists it as pending: one made for readers, in step too.
  add({journal::Encode(
      journal::Intent{"apply", "three", "file.c", "file", "create", {{"exists", false}}, {{"exists", true}}})});
  std::shared_ptr<const History> open = fold.Shared();
  REQUIRE(open->pending.size() == 1);
  CHECK(open->pending[0].address == "file.c");
  CHECK(fold.Shared() == open);
  add({journal::Encode(journal::Done{"apply", "three", "file.c", {{"exists", true}}, std::nullopt, false})});
  CHECK(open->pending.size() == 1);
  CHECK(fold.Shared()->pending.empty());
}

TEST_CASE("a record line and its checksum are what dumping the record as one object gives") {
  JournalRecord intent =
      journal::Encode(journal::Intent{"apply",
                                      "one",
                                      "file.a",
                                      "file",
                                      "update",
                                      {{"exists", true}, {"attrs", {{"b", 1}, {"a", {1.5, "x\n\"\u00e9"}}}}},
                                      nullptr});
  intent.seq = 12345678901;
  intent.at = "2026-11-27T05:00:00.123Z";
  for (const JournalRecord& r :
       {JournalRecord{1, "2026-11-27T05:00:00.123Z", "stage_complete", {{"stage", "\"quoted\" \u00e9"}}}, intent}) {
    nlohmann::json line = {{"seq", r.seq}, {"at", r.at}, {"kind", r.kind}, {"data", r.data}};
    CHECK(RecordSummedText(r) == line.dump());
    line["sum"] = Sha256Hex(line.dump()).substr(0, 16);
    CHECK(RecordChecksum(r) == line["sum"]);
    CHECK(EncodeLine(r) == line.dump());
    bool intact = false;
    auto back = DecodeLine(EncodeLine(r), &intact);
    REQUIRE(back);
    CHECK(intact);
    CHECK(back->data == r.data);
  }
}

TEST_CASE("a state read back from a checkpoint is parsed when first read, once, on any thread") {
  const std::string text = R"({"attrs":{"ttl":60,"values":["10.0.0.1"]},"exists":true})";
  StoredJson stored = StoredJson::FromText(text);
  StoredJson copy = stored;  // before it is parsed: the text goes with it
  CHECK(stored.Text() == text);
  std::vector<std::thread> readers;
  std::vector<const nlohmann::json*> seen(4);
  for (std::size_t k = 0; k < seen.size(); ++k) readers.emplace_back([&, k] { seen[k] = &stored.get(); });
  for (std::thread& t : readers) t.join();
  for (const nlohmann::json* v : seen) CHECK(v == seen[0]);  // one value, parsed once
  CHECK(stored.get()["attrs"]["ttl"] == 60);
  CHECK(copy.get() == stored.get());
  StoredJson parsed_copy = stored;  // after: the value goes with it
  CHECK(parsed_copy.get()["attrs"]["values"][0] == "10.0.0.1");
  CHECK(parsed_copy.Text() == text);
  // A state as the records give it: written as dump() writes it.
  StoredJson from_value(nlohmann::json{{"exists", false}});
  CHECK(from_value.Text() == R"({"exists":false})");
  StoredJson moved = std::move(from_value);
  CHECK(moved.get()["exists"] == false);
  CHECK(StoredJson().is_null());
  CHECK(StoredJson::FromText("{not json").is_null());
}

TEST_CASE("a checkpoint holds each state as its text, apart, which reads back as the same state") {
  HistoryFold fold;
  std::uint64_t seq = 0;
  auto add = [&](journal::Entry e) {
    JournalRecord r = journal::Encode(std::move(e));
    r.seq = ++seq;
    r.at = "2026-11-28T02:00:00.000Z";
    fold.Add(r);
  };
  add(journal::Begin{"apply", "sha", "me@here", "one", "", {}, ""});
  nlohmann::json prior = {{"exists", true}, {"attrs", {{"ttl", 60}, {"note", "a \"quoted\" \\ value\n\u00e9"}}}};
  add(journal::Intent{"apply", "one", "dns_record.a", "dns_record", "update", prior, {{"exists", true}}});
  add(journal::Done{"apply", "one", "dns_record.a", {{"exists", true}, {"attrs", {{"ttl", 30}}}}, std::nullopt, false});
  add(journal::Intent{"apply", "one", "dns_record.b", "dns_record", "create", {{"exists", false}}, {{"exists", true}}});
  // Names JSON must escape (a quote, a backslash, a control character) and one it need not.
  const std::string odd = "file.\"a\\b\"\t\u00e9";
  add(journal::Intent{"apply", "st\"age", odd, "file", "create", {{"exists", false}}, {{"exists", true}}});
  add(journal::Done{"apply", "st\"age", odd, {{"exists", true}}, std::nullopt, false});
  std::string text, states;
  fold.WriteJson(&text, &states);
  CHECK(text.find("note") == std::string::npos);  // the states are apart, as they are written
  CHECK(states.find(prior.dump()) != std::string::npos);
  auto back = HistoryFold::FromJson(nlohmann::json::parse(text), states);
  REQUIRE(back);
  History h = back->Result();
  CHECK(h.resources.at("dns_record.a").steps.at(0).prior.get() == prior);
  CHECK(h.resources.at("dns_record.a").last_state.get()["attrs"]["ttl"] == 30);
  CHECK(h.resources.at("dns_record.a").last_desired.get() == nlohmann::json{{"exists", true}});
  REQUIRE(h.pending.size() == 1);
  CHECK(h.pending[0].desired.get() == nlohmann::json{{"exists", true}});
  CHECK(h.resources.at(odd).steps.at(0).stage == "st\"age");
  CHECK(h.resources.at(odd).applied_stages == std::set<std::string>{"st\"age"});
  // Written again without being read: the same text.
  std::string again, again_states;
  back->WriteJson(&again, &again_states);
  CHECK(again == text);
  CHECK(again_states == states);
}

TEST_CASE("a checkpoint is written through a copy of its own, never through a link planted under its name") {
  TempDir dir;
  std::string path = (dir.path / "j.journal").string();
  std::ofstream(dir.path / "victim") << "precious\n";
  fs::create_symlink(dir.path / "victim", path + ".checkpoint.tmp");
  Write(path, Run("apply", "one", {"dns_record.a", "dns_record.b", "dns_record.c", "dns_record.d"}, 300));
  REQUIRE(fs::exists(path + ".checkpoint"));
  CHECK(fs::is_regular_file(fs::symlink_status(path + ".checkpoint")));
  CHECK(ReadText(dir.path / "victim") == "precious\n");
  CHECK_FALSE(fs::exists(fs::symlink_status(path + ".checkpoint.tmp")));
  CHECK(FromSummary(path) == FromAll(path));
}
