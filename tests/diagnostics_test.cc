// Error rendering and "did you mean": what every spec error is built from.
#include <doctest/doctest.h>

#include "engine/diagnostics.h"

using namespace reconcile;

TEST_CASE("edit distance and the nearest plausible name") {
  CHECK(EditDistance("", "") == 0);
  CHECK(EditDistance("serer_names", "server_names") == 1);
  CHECK(EditDistance("kitten", "sitting") == 3);
  CHECK(NearestName("serer_names", {"listen", "server_names", "proxy_pass"}) == "server_names");
  CHECK(NearestName("dns_recrd", {"dns_record", "file"}) == "dns_record");
  // Too far from everything: no suggestion rather than a silly one.
  CHECK(NearestName("zebra", {"dns_record", "file"}) == "");
  CHECK(DidYouMean("fiel", {"file"}) == ", did you mean 'file'?");
  CHECK(DidYouMean("xyz", {"file"}) == "");
}

TEST_CASE("an error shows file:line:col, the line, a caret under the column, and the note") {
  SourceSet sources;
  const std::string* file = sources.Add("cutover.toml", "a = 1\n\tserer_names = [\"x\"]\nc = 3\n");
  Diagnostics d;
  d.Error({file, 2, 2}, "unknown attribute 'serer_names', did you mean 'server_names'?", "see the schema");
  d.Error({}, "no place known");
  CHECK(d.Render(sources) ==
        "cutover.toml:2:2: error: unknown attribute 'serer_names', did you mean 'server_names'?\n"
        " 2 | \tserer_names = [\"x\"]\n"
        "   | \t^\n"
        "  see the schema\n"
        "error: no place known\n");
}

TEST_CASE("errors sort by file and line, whatever order they were found in") {
  SourceSet sources;
  const std::string* file = sources.Add("s.toml", "a\nb\nc\n");
  Diagnostics d;
  d.Error({file, 3, 1}, "third");
  d.Error({file, 1, 1}, "first");
  d.Error({file, 2, 1}, "second");
  d.SortByLocation();
  REQUIRE(d.size() == 3);
  CHECK(d.items()[0].message == "first");
  CHECK(d.items()[1].message == "second");
  CHECK(d.items()[2].message == "third");
}
