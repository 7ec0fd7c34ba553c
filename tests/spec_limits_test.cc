// Specs that once crashed reconcile (exit 134, an uncaught exception, bad_alloc) instead of
// being refused: absurd durations, values that double with each reference, secrets and
// sources that never end, inputs toml++ 3.3.0 mishandles, and error lists too long to read.
// Each must end in an error naming its place.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include <signal.h>
#include <sys/stat.h>

#include "engine/duration.h"
#include "engine/spec/toml_precheck.h"
#include "tests/support/temp_dir.h"
#include "tests/support/test_world.h"

using namespace reconcile;

namespace {

std::string Errors(const std::string& text) {
  TestWorld w;
  LoadResult r = w.Load(text);
  CHECK_MESSAGE(r.spec == nullptr, "the spec loaded, but it should not have");
  return TestWorld::Errors(r);
}

std::string WithHeader(const std::string& body) { return std::string(kHeader) + body; }

// A spec of `levels` variables (or resources), each the one before written twice.
std::string Doubling(int levels, bool resources) {
  std::string out = kHeader;
  if (!resources) {
    out += "[vars]\nv0 = \"abcdefghijklmnop\"\n";
    for (int i = 1; i <= levels; ++i)
      out += "v" + std::to_string(i) + " = \"${vars.v" + std::to_string(i - 1) + "}${vars.v" + std::to_string(i - 1) +
             "}\"\n";
    return out;
  }
  out += "[mem_item.r0]\nkey = \"r0\"\nvalue = \"abcdefghijklmnop\"\n";
  for (int i = 1; i <= levels; ++i) {
    std::string prev = "${mem_item.r" + std::to_string(i - 1) + ".value}";
    out += "[mem_item.r" + std::to_string(i) + "]\nkey = \"r" + std::to_string(i) + "\"\nvalue = \"" + prev + prev +
           "\"\n";
  }
  return out;
}

}  // namespace

TEST_CASE("durations: parsed with bounds, never through stoll") {
  CHECK(ParseDuration("1h30m") == std::chrono::minutes(90));
  CHECK(ParseDuration("8784h") == kMaxDuration);
  CHECK_FALSE(ParseDuration("8784h1ms"));
  CHECK_FALSE(ParseDuration("99999999999999999999999s"));
  CHECK_FALSE(ParseDuration("9223372036854775807h"));
  CHECK_FALSE(ParseDuration("9223372036854775807ms9223372036854775807ms"));
  CHECK_FALSE(ParseDuration("5"));
  CHECK(DurationError("99999999999999999999999s") ==
        " is longer than 8784h (a year), the longest wait reconcile takes");
}

TEST_CASE("a duration longer than a year is an error at its place, whichever attribute holds it") {
  SUBCASE("too many digits for 64 bits") {
    CHECK(
        Errors(WithHeader("[check.up]\nkind = \"http\"\nurl = \"http://x/\"\ntimeout = \"99999999999999999999999s\"\n"))
            .find("spec.toml:7:11: error: attribute 'timeout' of check.up is longer than 8784h (a year), the "
                  "longest wait reconcile takes\n") == 0);
  }
  SUBCASE("hours that overflow milliseconds") {
    CHECK(Errors(WithHeader("[check.up]\nkind = \"http\"\nurl = \"http://x/\"\ninterval = \"9223372036854775807h\"\n"))
              .find("spec.toml:7:12: error: attribute 'interval' of check.up is longer than 8784h") == 0);
  }
  SUBCASE("a service's stop_timeout") {
    std::string e = Errors(
        WithHeader("[service.web]\nhost = \"local\"\nname = \"nginx\"\nstop_timeout = \"9223372036854775807h\"\n"));
    CHECK(e.find("spec.toml:7:16: error: attribute 'stop_timeout' of service.web is longer than 8784h") == 0);
  }
  SUBCASE("taken from another resource: refused when the stage's value is worked out") {
    TestWorld w;
    LoadResult r =
        w.Load(WithHeader("[mem_item.a]\nkey = \"99999999999999999999999s\"\n"
                          "[mem_item.b]\nkey = \"b\"\nwait = \"${mem_item.a.key}\"\n"));
    REQUIRE(r.spec);
    auto d = Desired(*r.spec, *r.spec->Find("mem_item.b"), 0, false);
    REQUIRE_FALSE(d);
    CHECK(d.error().message ==
          "spec.toml:8:8: attribute 'wait' of mem_item.b is longer than 8784h (a year), the longest wait reconcile "
          "takes");
  }
}

TEST_CASE("variables built from variables stop at 1 MiB, at the variable") {
  std::string e = Errors(Doubling(40, false));
  // v16 is 16 B * 2^16 = 1 MiB exactly; v17 would be 2 MiB.
  CHECK(e.find("spec.toml:22:7: error: variable 'v17' is longer than 1 MiB once its variables are substituted\n") == 0);
  CHECK(e.find("error:", 30) == std::string::npos);  // one error: later levels do not repeat it
}

TEST_CASE("a string built from variables stops at 1 MiB, at the string") {
  std::string spec = Doubling(16, false) + "[mem_item.a]\nkey = \"a\"\nvalue = \"${vars.v16}x\"\n";
  CHECK(Errors(spec).find("spec.toml:24:9: error: attribute 'value' of mem_item.a is longer than 1 MiB") == 0);
}

TEST_CASE("values built from other resources' values stop at 1 MiB") {
  TestWorld w;
  LoadResult r = w.Load(Doubling(40, true));
  REQUIRE(r.spec);
  DesiredCache cache(*r.spec, false);
  auto d = cache.At(r.spec->resources.size() - 1, 0);
  REQUIRE_FALSE(d);
  CHECK(d.error().message.find("a value of mem_item.r17 is longer than 1 MiB once its references are substituted") !=
        std::string::npos);
}

TEST_CASE("lists built from other resources' lists stop at 1 MiB") {
  std::string text = WithHeader("[mem_item.r0]\nkey = \"r0\"\ntags = [\"abcdefghijklmnop\"]\n");
  for (int i = 1; i <= 40; ++i) {
    std::string prev = "\"${mem_item.r" + std::to_string(i - 1) + ".tags}\"";
    text += "[mem_item.r" + std::to_string(i) + "]\nkey = \"r" + std::to_string(i) + "\"\ntags = [" + prev + ", " +
            prev + "]\n";
  }
  TestWorld w;
  LoadResult r = w.Load(text);
  REQUIRE(r.spec);
  DesiredCache cache(*r.spec, false);
  auto d = cache.At(r.spec->resources.size() - 1, 0);
  REQUIRE_FALSE(d);
  CHECK(d.error().message.find("is longer than 1 MiB once its references are substituted") != std::string::npos);
}

TEST_CASE("secrets and sources: regular files only, and bounded") {
  TempDir dir;
  {
    std::ofstream big(dir.path / "big");
    big << std::string(kMaxSecretBytes + 1, 'x');
    std::ofstream ok(dir.path / "ok");
    ok << "s3cret\n";
  }
  CHECK(*ResolveSecret("file:ok", dir.path.string()) == "s3cret");
  auto zero = ResolveSecret("file:/dev/zero", dir.path.string());
  REQUIRE_FALSE(zero);
  CHECK(zero.error().message == "the secret file /dev/zero cannot be read: it is not a regular file");
  auto big = ResolveSecret("file:big", dir.path.string());
  REQUIRE_FALSE(big);
  CHECK(big.error().message == "the secret file " + (dir.path / "big").string() +
                                   " cannot be read: it is longer than 64 KiB, the most a secret file may hold");
  auto folder = ResolveSecret("file:.", dir.path.string());
  REQUIRE_FALSE(folder);

  // A pipe is read (a secret handed over by process substitution), to the same limit.
  std::string fifo = (dir.path / "fifo").string();
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  ::signal(SIGPIPE, SIG_IGN);  // the writer of the long one is cut off, as a real one would be
  for (std::size_t n : {std::size_t{7}, kMaxSecretBytes * 4}) {
    std::thread writer([&] {
      std::ofstream out(fifo);
      out << std::string(n - 1, 'p') << "\n";
    });
    auto piped = ResolveSecret("file:fifo", dir.path.string());
    writer.join();
    if (n == 7) {
      CHECK(*piped == "pppppp");
    } else {
      REQUIRE_FALSE(piped);
      CHECK(piped.error().message.find("it is longer than 64 KiB") != std::string::npos);
    }
  }

  TestWorld w;
  LoadResult r = w.Load(WithHeader("[file.f]\nhost = \"local\"\npath = \"/tmp/f\"\nsource = \"/dev/zero\"\n"));
  REQUIRE(r.spec);
  auto d = Desired(*r.spec, r.spec->resources[0], 0, true);
  REQUIRE_FALSE(d);
  CHECK(d.error().message ==
        "spec.toml:7:10: 'source' of file.f: the source file /dev/zero cannot be read: it is not a regular file");
}

TEST_CASE("toml++ 3.3.0 never sees the inputs it mishandles") {
  SUBCASE("a non-ASCII character after a value (upstream #190)") {
    CHECK(Errors("version = 1 \xc3\xa9\n") ==
          "spec.toml:1:13: error: TOML syntax: a non-ASCII character outside a string or comment; TOML allows it only "
          "in quotes\n 1 | version = 1 \xc3\xa9\n   |             ^\n");
  }
  SUBCASE("a table header starting with a dot (upstream #295)") {
    CHECK(Errors("[.x]\n").find("spec.toml:1:2: error: TOML syntax: a table name must start with a letter") == 0);
    CHECK(Errors("version = 1\n[[ .x]]\n").find("spec.toml:2:4: error: TOML syntax: a table name") == 0);
  }
  SUBCASE("a non-ASCII character first after a line-ending backslash") {
    CHECK(Errors("version = 1\nd = \"\"\"a\\\n  \xc3\xa9\"\"\"\n")
              .find("spec.toml:3:3: error: TOML syntax: a non-ASCII") == 0);
  }
  SUBCASE("valid TOML with non-ASCII text in strings, comments and keys passes") {
    CHECK_FALSE(
        PrecheckToml("\xEF\xBB\xBF# caf\xc3\xa9\na = \"caf\xc3\xa9\" # \xc3\xa9\n\"\xc3\xa9\" = '\xc3\xa9'\n"
                     "b = \"\"\"\n\xc3\xa9\\\n  x \xc3\xa9\"\"\"\nc = '''\xc3\xa9'''\n"
                     "d = [\n  [1], # [.x]\n]\n[ \"q\" ]\n[[t]]\ne = \"\\\"[.x]\"\n"));
  }
}

TEST_CASE("thousands of errors: the first 20 are shown, long lines around the column") {
  std::string after = "after = [";
  for (int i = 0; i < 10001; ++i) after += "\"mem_item.a\", ";
  after += "]\n";
  std::string e = Errors(WithHeader("[mem_item.a]\nkey = \"a\"\n" + after));
  CHECK(e.size() < 20000);
  CHECK(e.find("... and 9981 more errors\n") != std::string::npos);
  // The first error's line, cut to its neighbourhood: 'after = [' and 120 characters at most.
  std::size_t quoted = e.find(" 6 | ");
  REQUIRE(quoted != std::string::npos);
  std::string line = e.substr(quoted, e.find('\n', quoted) - quoted);
  CHECK(line.size() < 140);
  CHECK(line.rfind(" 6 | after = [\"mem_item.a\"", 0) == 0);
}

TEST_CASE("a value far longer than its pattern allows is refused, not matched until the stack overflows") {
  std::string e =
      Errors(WithHeader("[file.f]\nhost = \"local\"\ncontent = \"x\"\npath = \"/" + std::string(200000, 'a') + "\"\n"));
  CHECK(
      e.find(
          "spec.toml:7:8: error: attribute 'path' of file.f must be an absolute path (starting with /), not \"/aaaa") ==
      0);
  CHECK(e.size() < 1000);
  TestWorld w;
  CHECK(w.Load(WithHeader("[file.f]\nhost = \"local\"\ncontent = \"x\"\npath = \"/" + std::string(4000, 'a') + "\"\n"))
            .spec);
}

TEST_CASE("variables nested 100,000 deep are an error, not a stack overflow") {
  std::string text = kHeader;
  text += "[vars]\n";
  const int n = 100000;
  char line[64];
  for (int i = 0; i + 1 < n; ++i) {
    std::snprintf(line, sizeof line, "v%06d = \"${vars.v%06d}\"\n", i, i + 1);
    text += line;
  }
  std::snprintf(line, sizeof line, "v%06d = \"x\"\n", n - 1);
  text += line;
  std::string e = Errors(text);
  CHECK(e.find("spec.toml:106:11: error: variable 'v000101' is built from variables nested more than 100 deep\n") == 0);
}

TEST_CASE("whether a value is sensitive is found once per value, however often it is referred to") {
  // Each resource refers to the one before at the base and again at stage two: 2^40 paths.
  std::string text = WithHeader("[mem_item.r0]\nkey = \"r0\"\nvalue = \"v\"\n");
  for (int i = 1; i <= 40; ++i) {
    std::string r = "mem_item.r" + std::to_string(i), prev = "${mem_item.r" + std::to_string(i - 1) + ".value}";
    text += "[" + r + "]\nkey = \"r" + std::to_string(i) + "\"\nvalue = \"" + prev + "\"\n[" + r +
            ".at.two]\nvalue = \"" + prev + "\"\n";
  }
  text += "[mem_item.s]\nkey = \"s\"\nsecret = \"env:X\"\n[mem_item.r0.at.three]\nvalue = \"${mem_item.s.secret}\"\n";
  TestWorld w;
  LoadResult r = w.Load(text);
  REQUIRE(r.spec);
  CHECK(IsSensitive(*r.spec, *r.spec->Find("mem_item.r40"), "value"));
  CHECK_FALSE(IsSensitive(*r.spec, *r.spec->Find("mem_item.r40"), "key"));
}

TEST_CASE("found by the fuzzer: a table header cut by the end of its line") {
  CHECK(Errors("[\n").find("spec.toml:1:2: error: TOML syntax: a table name must start with") == 0);
  CHECK(Errors("[[ #\n").find("spec.toml:1:4: error: TOML syntax: a table name must start with") == 0);
}

TEST_CASE("found by the fuzzer: a '}' where an array expects a value") {
  CHECK(Errors("r=[}\n").find("spec.toml:1:4: error: TOML syntax: expected a value or ']' in this array, not '}'") ==
        0);
  CHECK(Errors("r=[1, # c\n }\n").find("spec.toml:2:2: error: TOML syntax: expected a value or ']'") == 0);
  CHECK_FALSE(PrecheckToml("r = [ { a = 1 }, [ 2 ], ]\ns = { a = [1], b = {} }\n"));
}

TEST_CASE("found by the fuzzer: a date followed by a lone digit") {
  CHECK(Errors("d = 1979-05-27 0 \n").find("spec.toml:1:16: error: TOML syntax: a lone digit after a value") == 0);
  CHECK(Errors("v=0----A--B= 0 \n").find("spec.toml:1:14: error: TOML syntax: a lone digit after a value") == 0);
  // A vertical tab or form feed ends a value for toml++ too (the fuzzer's v=0----A--B= 0\v).
  CHECK(Errors(std::string("v=0----A--B= 0\v\0\0 ", 18)).find("spec.toml:1:14: error: TOML syntax: a lone digit") == 0);
  CHECK(Errors("d = 1979-05-27 0\f\n").find("spec.toml:1:16: error: TOML syntax: a lone digit after a value") == 0);
  CHECK_FALSE(PrecheckToml("d = 1979-05-27 07:32:00\na. 1 = 2\nb = [ 1, 2 ]\nc = { x = 1 }\n"));
}

TEST_CASE("the pre-check passes every spec and example as they are") {
  for (const char* folder : {"specs", "examples"}) {
    for (const auto& f :
         std::filesystem::directory_iterator(std::filesystem::path(RECONCILE_TESTDATA) / ".." / ".." / folder)) {
      if (f.path().extension() != ".toml") continue;
      std::ifstream in(f.path());
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      auto bad = PrecheckToml(text);
      CHECK_MESSAGE(!bad, f.path().string() << ":" << (bad ? bad->line : 0) << ": " << (bad ? bad->message : ""));
    }
  }
  CHECK_FALSE(PrecheckToml("a = 1 \nb= 2 # c\nc = { d = 3 , e = 4 }\nf = [ 5 , 6 ]\n"));
}

TEST_CASE("found by the fuzzer: a backslash before a non-ASCII character in a multi-line string") {
  CHECK(Errors("d = \"\"\"a\\\xc3\xa9\"\"\"\n")
            .find("spec.toml:1:10: error: TOML syntax: a backslash before a non-ASCII") == 0);
}

TEST_CASE("found by the fuzzer: a number that runs into a quote and a non-ASCII character") {
  CHECK(Errors("v = 2\"\xc3\xa9\"\n").find("spec.toml:1:5: error: TOML syntax: a value that runs into a non-ASCII") ==
        0);
  CHECK(Errors("v = [1, -'\xc3\xa9']\n").find("spec.toml:1:9: error: TOML syntax: a value that runs into") == 0);
  CHECK_FALSE(PrecheckToml("a = 1979-05-27 07:32:00 # \xc3\xa9\nb = [1, 2] # \xc3\xa9\nc = 3,\n"));
}

TEST_CASE("found by the fuzzer: a number that runs into a quote, on past a space (a toml++ assertion)") {
  CHECK(Errors("v=0\"---A--B= 0 ")
            .find("spec.toml:1:3: error: TOML syntax: a number, date or time that runs into a quote") == 0);
  CHECK_FALSE(PrecheckToml("a = 0\nb = \"0\"\nc = [1, \"x\"]\nd = {e = 2, f = '3'}\n"));
}

TEST_CASE("found by the fuzzer: a '{' inside a number opens no table (a toml++ assertion)") {
  CHECK(Errors("v=0$${-A--B= 0 ").find("spec.toml:1:14: error: TOML syntax: a lone digit after a value") == 0);
  CHECK(Errors("v=0[-A--B= 0 ").find("spec.toml:1:12: error: TOML syntax: a lone digit after a value") == 0);
  CHECK_FALSE(PrecheckToml("a = -1\nb = +inf\nc = [1,2]\nd = {e = 1979-05-27 07:32:00, f = 0x1F}\ng = 1e+3 # x\n"));
}

TEST_CASE("found by the fuzzer: a NUL does not end a value for toml++, nor for the pre-check") {
  std::string text = "v = 2";
  text += std::string(3, '\0') + "'\xc3\xa9'\n";
  CHECK(Errors(text).find("spec.toml:1:5: error: TOML syntax: a value that runs into a non-ASCII") == 0);
}

TEST_CASE("a string never closed is told where it opens, not at the end of the file") {
  auto multi = PrecheckToml("a = 1\nb = \"\"\"open\nstill open\n[t]\nc = 2\n");
  REQUIRE(multi);
  CHECK(multi->line == 2);
  CHECK(multi->column == 5);
  CHECK(multi->message == "a string opened with \"\"\" here is never closed; close it with \"\"\"");
  auto single = PrecheckToml("a = 'x\nb = 1\n");
  REQUIRE(single);
  CHECK(single->line == 1);
  CHECK(single->column == 5);
  CHECK(single->message.find("not closed on its line; close it with '") != std::string::npos);
  auto escape_last = PrecheckToml("a = \"x\\");
  REQUIRE(escape_last);
  CHECK(escape_last->column == 5);
  auto backslash_newline = PrecheckToml("a = \"x \\\nb = \"y\"\n");  // not a multi-line string's line end
  REQUIRE(backslash_newline);
  CHECK(backslash_newline->line == 1);
  CHECK(backslash_newline->column == 5);
  CHECK_FALSE(PrecheckToml("a = \"\"\"x\ny\"\"\"\nb = '''p\nq'''\nc = \"\\\"\"\n"));
}
