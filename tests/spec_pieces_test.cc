// A large spec is parsed a piece at a time (toml_pieces.h). What it loads into, and every error
// with its place, must be what the spec parsed whole gives: each case is loaded both ways.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "engine/spec/toml_parse_ahead.h"
#include "engine/spec/toml_pieces.h"
#include "tests/support/test_world.h"

using namespace reconcile;

namespace {

std::string Where(const SourceLoc& loc) { return loc.ToString(); }

std::string Dump(const SpecAttrs& attrs) {
  std::string out;
  for (const auto& [name, v] : attrs) {
    out += " " + name + "=" + FormatValue(v.value) + "@" + Where(v.loc) + (v.secret ? " secret" : "");
    for (std::size_t i = 0; i < v.item_locs.size(); ++i) out += " [" + Where(v.item_locs[i]) + "]";
  }
  return out;
}

// What the engine reads of a spec, places included.
std::string Dump(const LoadResult& r) {
  if (!r.spec) return "errors:\n" + TestWorld::Errors(r);
  std::string out = r.spec->name + " " + r.spec->sha256 + "\n";
  for (const Resource& res : r.spec->resources) {
    out += res.address + "@" + Where(res.loc) + " stage " + std::to_string(res.stage) + "@" + Where(res.stage_loc) +
           " host " + res.host + " provider " + res.provider_instance + Dump(res.attrs) + "\n";
    for (const Overlay& o : res.overlays)
      out += "  at " + std::to_string(o.stage) + "@" + Where(o.loc) + Dump(o.attrs) + "\n";
    for (const Dependency& d : res.deps)
      out += "  dep " + std::to_string(d.on) + (d.kind == Dependency::Kind::kAfter ? " after" : " ref") + "@" +
             Where(d.loc) + "\n";
    for (std::size_t n : res.notifies) out += "  notifies " + std::to_string(n) + "\n";
  }
  return out;
}

struct Both {
  std::string whole, pieces;
  std::size_t parses = 0;
};

// Loads `text` whole, then cut into as many pieces as it can be.
Both LoadBoth(const std::string& text, const std::string& path = "spec.toml", LoadOptions options = {}) {
  TestWorld w;
  Both b;
  options.piece_bytes = std::size_t(-1);
  b.whole = Dump(w.Load(text, options, path));
  options.piece_bytes = 1;
  LoadResult r = w.Load(text, options, path);
  b.pieces = Dump(r);
  b.parses = r.parses;
  return b;
}

const char* kHead = R"(version = 1
name = "pieces"
stages = ["prepare", "switch"]
[vars]
dir = "/srv"
[host.web]
address = "127.0.0.1"
)";

}  // namespace

TEST_CASE("a spec of many resources loads the same in pieces, each place on its own line") {
  std::string text = kHead;
  for (int i = 0; i < 60; ++i) {
    std::string id = std::to_string(i);
    text += "[mem_item.r" + id + "]\nkey = \"k" + id + "\"\nvalue = \"${vars.dir}/v" + id + "\"\nsize = " + id + "\n";
    if (i % 3 == 1) text += "tags = [\n  \"a\",\n  \"b\",\n]\n";
    if (i % 5 == 2 && i > 5) text += "after = [\"mem_item.r" + std::to_string(i - 5) + "\"]\n";
    if (i % 7 == 3 && i > 7) text += "color = \"red\"\nwait = \"${mem_item.r" + std::to_string(i - 7) + ".size}s\"\n";
    if (i % 4 == 0) text += "  [mem_item.r" + id + ".at.switch]\n  value = \"\"\"\n[mem_item.fake]\n\"\"\"\n";
  }
  Both b = LoadBoth(text);
  CHECK_MESSAGE(b.whole.find("errors") == std::string::npos, b.whole);
  CHECK(b.parses > 50);  // really cut: every resource a piece of its own
  CHECK(b.pieces == b.whole);
}

TEST_CASE("an error in a later piece is told at its line and column, as parsed whole") {
  std::string many;
  for (int i = 0; i < 20; ++i) many += "[mem_item.r" + std::to_string(i) + "]\nkey = \"k\"\nvalue = \"v\"\n";
  const char* tails[] = {
      "[mem_item.bad]\nkey = \"k\"\nvalue = \"v\"\nsizee = 1\n",              // a misspelt key
      "[mem_item.bad]\nkey = \"k\"\nvalue = \n",                              // TOML syntax
      "[mem_item.r3]\nkey = \"again\"\nvalue = \"v\"\n",                      // a table written twice
      "[mem_itm.x]\nkey = \"k\"\n",                                           // an unknown type
      "[mem_item.bad]\nkey = \"k\"\nvalue = \"${mem_item.nothere.size}\"\n",  // a reference to nothing
      "[mem_item.bad]\nkey = 'k'\nvalue = \"v\"\ncolor = \"\"\"\nopen\n",     // an unclosed string
  };
  for (const char* tail : tails) {
    CAPTURE(tail);
    Both b = LoadBoth(kHead + many + tail);
    CHECK(b.whole.rfind("errors", 0) == 0);
    CHECK(b.pieces == b.whole);
  }
}

TEST_CASE("what only the whole document tells is parsed whole") {
  std::string many;
  for (int i = 0; i < 10; ++i) many += "[mem_item.r" + std::to_string(i) + "]\nkey = \"k\"\nvalue = \"v\"\n";
  std::string commands;
  for (int i = 0; i < 10; ++i)
    commands += "[command.c" + std::to_string(i) + "]\nhost = \"local\"\napply = [\"true\"]\n";
  const std::string kGroups = std::string(kHead) +
                              "[hosts.grp]\naddresses = [\"10.0.0.1\", \"10.0.0.2\"]\nuser = \"root\"\n"
                              "[hosts.two]\naddresses = [\"10.0.0.3\"]\nuser = \"root\"\n";
  struct Case {
    const char* what;
    std::string text;
  };
  const Case cases[] = {
      // Valid TOML: a resource's overlay written apart from it.
      {"tables of one resource apart", kHead + many + "[mem_item.r2.at.switch]\nvalue = \"w\"\n"},
      {"a setting after the resources", kHead + many + "[stage.switch]\nconfirm = \"go?\"\n"},
      {"a [TYPE] table", kHead + many + "[mem_item]\nz = { key = \"k\", value = \"v\" }\n"},
      {"an array of tables", kHead + many + "[[mem_item.list]]\nkey = \"k\"\n"},
      {"a resource among the settings, dotted", std::string(kHead) + "mem_item.d.key = \"k\"\n" + many},
      {"a resource among the settings, inline",
       std::string("mem_item = { i = { key = \"k\", value = \"v\" } }\n") + kHead + many},
      {"an escape in a header", kHead + many + "[mem_item.\"e\\u0078\"]\nkey = \"k\"\nvalue = \"v\"\n"},
      // A table on a host group is stored once per member: written again, with or without the
      // group, its addresses differ, but it is one TOML table twice.
      {"a group's table again without it", kGroups +
                                               std::string("[command.a]\nhost = \"group:grp\"\napply = [\"true\"]\n") +
                                               commands + "[command.a]\nhost = \"local\"\napply = [\"false\"]\n"},
      {"a group's table again on another", kGroups +
                                               std::string("[command.a]\nhost = \"group:grp\"\napply = [\"true\"]\n") +
                                               commands + "[command.a]\nhost = \"group:two\"\napply = [\"false\"]\n"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    Both b = LoadBoth(c.text);
    CHECK(b.parses == 1);
    CHECK(b.pieces == b.whole);
    if (std::string(c.what).rfind("a group's", 0) == 0)
      CHECK(b.whole.find("is written twice; the first is on line") != std::string::npos);
  }
}

TEST_CASE("headers quoted, indented or after CRLF lines are cut where they start") {
  std::string text = std::string(kHead) +
                     "[mem_item.\"q-1\"]\r\nkey = \"k\"\r\nvalue = 'v'\r\n"
                     "\t[ mem_item . 'q2' ]  # a comment\r\nkey = \"k\"\r\nvalue = \"v\"\r\n"
                     "m = [\n[1]\n]\n"  // an array whose line starts with '[': not a header
                     "[mem_item.q3]\nkey = \"k\"\nvalue = \"v\"\nsize = x\n";
  Both b = LoadBoth(text);
  CHECK(b.pieces == b.whole);
  std::vector<TomlHeader> headers;
  REQUIRE_FALSE(PrecheckToml(text, &headers));
  auto split = SplitToml(text, headers, 1, {"version", "name", "stages", "vars", "host"});
  REQUIRE(split);
  REQUIRE(split->pieces.size() == 3);
  CHECK(text.substr(split->pieces[1].begin, 2) == "\t[");
  CHECK(split->pieces[1].line == 11);
  CHECK(split->pieces[2].line == 17);
  CHECK(split->pieces[0].end == split->pieces[1].begin);
}

TEST_CASE("a small spec is parsed whole") {
  std::string text =
      std::string(kHead) + "[mem_item.a]\nkey = \"k\"\nvalue = \"v\"\n[mem_item.b]\nkey = \"k\"\nvalue = \"v\"\n";
  TestWorld w;
  LoadResult r = w.Load(text);
  REQUIRE(r.spec);
  CHECK(r.parses == 1);
  LoadOptions small;
  small.piece_bytes = 16;
  LoadResult cut = w.Load(text, small);
  REQUIRE(cut.spec);
  CHECK(cut.parses == 3);
}

TEST_CASE("every spec in the tests and examples loads the same in pieces") {
  std::filesystem::path root = std::filesystem::path(RECONCILE_TESTDATA).parent_path().parent_path();
  int specs = 0, cut = 0;
  for (const char* dir : {"tests/testdata", "examples"})
    for (const auto& e : std::filesystem::recursive_directory_iterator(root / dir)) {
      if (e.path().extension() != ".toml") continue;
      std::ifstream in(e.path());
      std::stringstream text;
      text << in.rdbuf();
      CAPTURE(e.path().string());
      Both b = LoadBoth(text.str(), e.path().string());
      CHECK(b.pieces == b.whole);
      ++specs;
      cut += b.parses > 1;
    }
  CHECK(specs > 50);
  // Many are cut (most of the rest need --var, or fail on purpose, and are read whole for the
  // error): the comparison is not of one path with itself.
  CHECK(cut >= 15);
  MESSAGE(specs << " specs, " << cut << " read in pieces");
}

TEST_CASE("pieces parsed ahead come back in order, an error with its place, and stop when let go") {
  std::string text;
  std::vector<TomlPiece> pieces;
  for (int i = 0; i < 40; ++i) {
    TomlPiece p;
    p.begin = text.size();
    text += "[t" + std::to_string(i) + "]\nn = " + (i == 17 ? std::string("\n") : std::to_string(i) + "\n");
    p.end = text.size();
    pieces.push_back(p);
  }
  const std::string file = "ahead.toml";
  {
    TomlParseAhead parser(text, file, pieces, 2);
    for (int i = 0; i < 40; ++i) {
      CAPTURE(i);
      ParsedPiece p = parser.Take();
      if (i == 17) {
        CHECK_FALSE(p.ok);
        CHECK(p.line == 2);  // in the piece: its caller adds where the piece starts
        CHECK_FALSE(p.error.empty());
        continue;
      }
      REQUIRE(p.ok);
      CHECK(p.table["t" + std::to_string(i)]["n"].value<int>() == i);
      CHECK(*p.table.source().path == file);
    }
    CHECK_THROWS_AS(parser.Take(), std::logic_error);  // not a wait for a piece that never comes
  }
  // Let go with most pieces not taken, the thread waiting for room: it ends, and nothing hangs.
  for (std::size_t taken : {0, 1, 39}) {
    TomlParseAhead parser(text, file, pieces, 1);
    for (std::size_t i = 0; i < taken; ++i) parser.Take();
  }
}
