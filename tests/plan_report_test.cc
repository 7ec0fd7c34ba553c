// The plan as a change-request report (--format markdown and html): the stages, their steps
// and changes, the confirmation a stage asks for, what cannot be undone, the checks, and the
// graph when one is given; no secret, and HTML that escapes what it quotes.
#include <doctest/doctest.h>

#include <cstdlib>

#include "tests/support/test_world.h"

using namespace reconcile;

namespace {

struct Planned {
  TestWorld w;
  LoadResult load;
  std::optional<Plan> plan;
  Planned() {
    setenv("RECONCILE_REPORT_SECRET", "s3cr3t-value", 1);
    w.mem->world["a"] = State{true, {{"key", "a"}, {"size", std::int64_t{1}}, {"secret", "old-secret-value"}}};
    w.mem->world["v"] = State{true, {{"key", "v"}}};
    load = w.Load(std::string(kHeader) + R"(
[stage.two]
confirm = "the <switch> & all"
[mem_item.a]
key = "a"
size = 2
secret = "env:RECONCILE_REPORT_SECRET"
[mem_item.b]
stage = "two"
key = "b"
value = "x|y"
[mem_vault.v]
stage = "three"
key = "v"
ensure = "absent"
[check.c]
stage = "two"
kind = "tcp"
address = "127.0.0.1"
port = 9
expect = "closed"
)");
    REQUIRE_MESSAGE(load.spec, TestWorld::Errors(load));
    auto made = TestWorld::PlanOf(load);
    REQUIRE_MESSAGE(made, (made ? std::string() : made.error().message));
    plan = std::move(*made);
  }
};

}  // namespace

TEST_CASE("markdown: stages as tables, the confirmation, the irreversible steps up front, no secrets") {
  Planned p;
  std::string md = RenderMarkdown(*p.load.spec, *p.plan, {}, "");
  CHECK(md.rfind("# Plan for t\n", 0) == 0);
  CHECK(md.find("- Summary: 1 to create, 1 to update, 1 to delete, 1 checks, 2 irreversible.") != std::string::npos);
  CHECK(md.find("## Stage one\n") != std::string::npos);
  CHECK(md.find("| `!~` | `mem_item.a` | secret: (sensitive) → (sensitive)<br>size: 1 → 2 | irreversible: the current "
                "'secret' ") != std::string::npos);
  CHECK(md.find("> Asks before it starts: the &lt;switch&gt; &amp; all") != std::string::npos);
  CHECK(md.find("value: \"x\\|y\"") != std::string::npos);  // a pipe does not break the table
  CHECK(md.find("| `?` | `check.c` |  | tcp 127.0.0.1:9 closed |") != std::string::npos);
  CHECK(md.find("**Cannot be undone**") < md.find("## Stage one"));
  CHECK(md.find("- three: mem_vault.v — ") != std::string::npos);
  CHECK(md.find("| `!-` | `mem_vault.v` |") != std::string::npos);
  CHECK(md.find("s3cr3t-value") == std::string::npos);
  CHECK(md.find("old-secret-value") == std::string::npos);
  CHECK(md.find("## Graph") == std::string::npos);  // none given, none claimed
}

TEST_CASE("html: a standalone page, escaped, with the graph inline when given") {
  Planned p;
  std::string html = RenderHtml(*p.load.spec, *p.plan, {}, "<?xml version=\"1.0\"?>\n<svg id=\"g\"></svg>\n");
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("Asks before it starts: the &lt;switch&gt; &amp; all") != std::string::npos);
  CHECK(html.find("<tr class=\"irreversible\"><td><code>!-</code></td><td><code>mem_vault.v</code>") !=
        std::string::npos);
  CHECK(html.find("<h2>Graph</h2>\n<svg id=\"g\"></svg>") != std::string::npos);
  CHECK(html.find("<?xml") == std::string::npos);
  CHECK(html.find("s3cr3t-value") == std::string::npos);
  CHECK(html.rfind("</body></html>\n") == html.size() - 15);
}

TEST_CASE("markdown: one stage, when asked for, and its own summary") {
  Planned p;
  RenderOptions only;
  only.only_stage = 0;
  std::string md = RenderMarkdown(*p.load.spec, *p.plan, only, "");
  CHECK(md.find("## Stage one") != std::string::npos);
  CHECK(md.find("## Stage two") == std::string::npos);
  CHECK(md.find("- Summary: 0 to create, 1 to update, 0 to delete, 0 checks, 1 irreversible.") != std::string::npos);
}
