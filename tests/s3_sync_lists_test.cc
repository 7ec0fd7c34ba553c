// The s3_sync's bookkeeping, without a server: the merge of two listings, the journaled
// entries' round trip, and what a rollback decides from them.
#include <doctest/doctest.h>

#include "providers/s3/s3_api.h"
#include "providers/s3/bucket.h"
#include "providers/s3/sync_lists.h"

using namespace reconcile;
using namespace reconcile::s3;

namespace {

std::vector<std::string> Keys(const std::vector<Entry>& entries) {
  std::vector<std::string> out;
  for (const Entry& e : entries) out.push_back(e.key);
  return out;
}

using Keys_ = std::vector<std::string>;

}  // namespace

TEST_CASE("merging two listings in key order finds what is missing, differs and is extra") {
  std::vector<Listed> source = {{"a", 1, "e1"}, {"b", 2, "e2"}, {"c", 3, "e3"}, {"d/x", 4, "e4"}, {"e", 5, "e5"}};
  std::vector<Listed> target = {{"b", 2, "e2"}, {"c", 3, "other"}, {"d", 9, "e9"}, {"e", 6, "e5"}, {"z", 1, "ez"}};
  int asked = 0;
  Merged m = Merge(source, target, [&](const Listed&, const Listed&) {
    ++asked;
    return false;
  });
  CHECK(Keys(m.missing) == Keys_{"a", "d/x"});
  CHECK(Keys(m.differing) == Keys_{"c", "e"});
  CHECK(Keys(m.extra) == Keys_{"d", "z"});
  CHECK(asked == 1);  // only "c": same size, other ETag; "e" differs in size, no need to ask
  CHECK(m.differing[0].old_etag == "other");
  CHECK(m.differing[1].old_size == 6);
  CHECK(m.extra[1].old_etag == "ez");
}

TEST_CASE("an ETag in another form is settled by the slower comparison") {
  std::vector<Listed> source = {{"big", 100, "abc-3"}};
  std::vector<Listed> target = {{"big", 100, "def"}};
  CHECK(Merge(source, target, [](const Listed&, const Listed&) { return true; }).differing.empty());
  CHECK(Merge(source, target, [](const Listed&, const Listed&) { return false; }).differing.size() == 1);
}

TEST_CASE("journaled entries survive keys with tabs, newlines, percent signs and UTF-8") {
  Entry e{"dir/a\tb\nc%20d é+.txt", 12, "md5", 7, "old-2", "v1"};
  Entry back = DecodeLegacy(EncodeLegacy(e));
  CHECK(back.key == e.key);
  CHECK(back.size == 12);
  CHECK(back.etag == "md5");
  CHECK(back.old_size == 7);
  CHECK(back.old_etag == "old-2");
  CHECK(back.old_version == "v1");
  CHECK(EncodeLegacy(e).find('\n') == std::string::npos);
  // A damaged record reads as what it holds, without crashing.
  CHECK(DecodeLegacy("50%zz\t1").key == "50%zz");
  CHECK(DecodeLegacy("").size == 0);
}

TEST_CASE("a rollback removes what the sync created, restores versions, and names what is lost") {
  Lists wanted;  // what the sync journaled as prior: its lists before it ran
  wanted.listed = true;
  wanted.missing = {{"new1", 1, "n1", 0, "", ""}, {"new2", 1, "n2", 0, "", ""}, {"new3", 1, "n3", 0, "", ""}};
  wanted.differing = {{"over-v", 1, "s", 1, "t", "ver7"}, {"over", 1, "s", 1, "t", ""}, {"back", 1, "s", 1, "t", ""}};
  wanted.extra = {{"gone", 0, "", 4, "x", ""}, {"kept", 0, "", 4, "x", ""}};
  Lists now;  // after the sync: new1 as written; new2 overwritten by someone since (etag zz);
              // new3 deleted again; back holds its earlier ETag again; kept was not deleted
  now.listed = true;
  now.missing = {{"new3", 1, "n3", 0, "", ""}};
  now.differing = {{"new2", 1, "n2", 1, "zz", ""}, {"back", 1, "s", 1, "t", ""}};
  now.extra = {{"kept", 0, "", 4, "x", ""}};
  Undo u = PlanUndo(now, wanted);
  CHECK(Keys(u.remove) == Keys_{"new1"});
  CHECK(Keys(u.changed_since) == Keys_{"new2"});
  CHECK(Keys(u.restore) == Keys_{"over-v"});
  CHECK(Keys(u.lost) == Keys_{"over", "gone"});
}

TEST_CASE("a rollback after the sync's source was emptied removes only what the sync wrote") {
  // A copy from a bucket another sync filled, undone after that one (its source now empty):
  // every key the copy created is extra now. One holds what the copy wrote (its ETag); one was
  // written over by someone since, and is theirs: a user trial saw it deleted.
  Lists wanted;
  wanted.listed = true;
  wanted.missing = {{"ours", 1, "e1", 0, "", ""}, {"theirs", 1, "e2", 0, "", ""}, {"unknown", 1, "", 0, "", ""}};
  Lists now;
  now.listed = true;
  now.extra = {{"ours", 0, "", 1, "e1", ""}, {"theirs", 0, "", 5, "zz", ""}, {"unknown", 0, "", 1, "e3", ""}};
  Undo u = PlanUndo(now, wanted);
  CHECK(Keys(u.remove) == Keys_{"ours"});
  CHECK(Keys(u.changed_since) == Keys_{"theirs", "unknown"});  // no ETag written down: not known to be ours
  CHECK(u.lost.empty());
}

TEST_CASE("the lists are the provider's private data, and an older journal's attribute lists still read") {
  Lists l;
  l.listed = l.versioned = true;
  l.missing = {{"a\tb\nc", 3, "e1", 0, "", ""}};
  l.extra = {{"x", 0, "", 4, "old", "v9"}};
  State s{true, {{"source", std::string("s3://a/")}}, Pack(l)};
  Lists back = ListsOf(s);
  CHECK(back.listed);
  CHECK(back.versioned);
  CHECK(Keys(back.missing) == Keys_{"a\tb\nc"});
  CHECK(back.extra[0].old_version == "v9");
  CHECK(s.attrs.size() == 1);  // nothing of it in the attributes a plan diffs and shows
  // The state a done sync writes, and a source not there yet: no lists, so no undo.
  CHECK_FALSE(ListsOf(State{true, {}, ""}).listed);
  Lists pending = ListsOf(State{true, {}, Pack(Lists{.source_missing = true})});
  CHECK(pending.source_missing);
  CHECK_FALSE(pending.listed);
  // Written before private data: tab-packed in the attributes.
  AttrMap legacy{{"missing", StringList{EncodeLegacy({"k", 2, "e", 0, "", ""})}},
                 {"differing", StringList{}},
                 {"extra", StringList{}},
                 {"versioned", true}};
  Lists old = ListsOf(legacy, "");
  CHECK(old.listed);
  CHECK(old.versioned);
  CHECK(Keys(old.missing) == Keys_{"k"});
  // Damaged private data reads as no lists, never a crash.
  CHECK_FALSE(ListsOf(AttrMap{}, "{not json").listed);
  CHECK(ListsOf(AttrMap{}, R"({"missing":[["k",-1,"e",0,"",""]]})").missing.empty());
}

TEST_CASE("plan lines count objects and bytes, and list the keys for --explain") {
  AttrChange c = Summary("copy", {{"a", 1536, "", 0, "", ""}, {"b", 512, "", 0, "", ""}}, "to copy");
  CHECK(c.summary() == "2 objects, 2.0 KiB to copy");
  CHECK(c.details() == std::vector<std::string>{"a (1.5 KiB)", "b (512 B)"});
  CHECK(Summary("delete", {{"x", 0, "", 3 << 20, "", ""}}, "to delete", true).summary() ==
        "1 object, 3.0 MiB to delete");
  CHECK(Bytes(0) == "0 B");
  CHECK(Objects(1) == "1 object");
}

TEST_CASE("a listing page's keys are decoded only when the server says it encoded them") {
  const char* encoded = R"(<?xml version="1.0"?><ListBucketResult><EncodingType>url</EncodingType>
    <Contents><Key>a+b%2Bc%0A%C3%A9</Key><Size>3</Size><ETag>"abc"</ETag></Contents>
    <IsTruncated>true</IsTruncated><NextContinuationToken>tok</NextContinuationToken></ListBucketResult>)";
  auto page = ParseListPage(encoded);
  REQUIRE(page);
  REQUIRE(page->objects.size() == 1);
  CHECK(page->objects[0].key == "a b+c\né");
  CHECK(page->objects[0].etag == "abc");
  CHECK(page->objects[0].size == 3);
  CHECK(page->next_token == "tok");
  const char* plain = R"(<ListBucketResult><Contents><Key>percent%41 a+b</Key><Size>1</Size>
    <ETag>&quot;e&quot;</ETag></Contents><IsTruncated>false</IsTruncated></ListBucketResult>)";
  page = ParseListPage(plain);
  REQUIRE(page);
  CHECK(page->objects[0].key == "percent%41 a+b");
  CHECK(page->objects[0].etag == "e");
  CHECK(page->next_token.empty());
  CHECK_FALSE(ParseListPage("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>"));
  CHECK_FALSE(ParseListPage("not xml"));
}

TEST_CASE("a bucket setting the server lacks is private data; an older journal's text for it is no change") {
  State prior{true, {{"name", std::string("b")}}, PackUnsupported({{"encryption", "501 NotImplemented"}})};
  CHECK(UnsupportedOf(prior).at("encryption") == "501 NotImplemented");
  Diff asks;
  asks.action = Action::kUpdate;
  asks.changes = {{"encryption", Value{}, std::string("AES256")}, {"versioning", Value{}, false}};
  ReviewBucket(prior, State{}, &asks);
  REQUIRE(asks.changes.size() == 2);
  CHECK(asks.changes[0].summary() == "not implemented by this server (501 NotImplemented), wanted \"AES256\"");
  // Going back to what a journal from before private data holds: the setting as this text.
  Diff back;
  back.action = Action::kUpdate;
  back.changes = {{"encryption", Value{}, std::string("not implemented by this server (501 NotImplemented)")}};
  ReviewBucket(prior, State{}, &back);
  CHECK(back.changes.empty());
  CHECK(back.action == Action::kNone);
}
