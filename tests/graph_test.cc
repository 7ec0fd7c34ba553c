// The dependency graph: order from `after`, references and stages; cycles reported whole.
#include <doctest/doctest.h>

#include "tests/support/test_world.h"

using namespace reconcile;

namespace {

struct Built {
  LoadResult load;
  DependencyGraph graph;
  bool ok = false;
};

Built Build(TestWorld& w, const std::string& text) {
  Built b;
  b.load = w.Load(text);
  REQUIRE_MESSAGE(b.load.spec, TestWorld::Errors(b.load));
  b.ok = b.graph.Build(*b.load.spec, &b.load.diags);
  return b;
}

std::size_t Rank(const Built& b, const std::string& address) {
  return b.graph.rank()[b.load.spec->Index(address).value()];
}

}  // namespace

TEST_CASE("dependencies come first; otherwise spec order is kept") {
  TestWorld w;
  Built b = Build(w, std::string(kHeader) + R"(
[mem_item.c]
key = "c"
after = ["mem_item.b"]
[mem_item.a]
key = "a"
[mem_item.b]
key = "b"
value = "${mem_item.a.value}"
[mem_item.d]
key = "d"
)");
  REQUIRE(b.ok);
  CHECK(Rank(b, "mem_item.a") < Rank(b, "mem_item.b"));
  CHECK(Rank(b, "mem_item.b") < Rank(b, "mem_item.c"));
  CHECK(Rank(b, "mem_item.a") < Rank(b, "mem_item.d"));  // independent: spec order
}

TEST_CASE("a resource in a later stage comes after every earlier stage's resources") {
  TestWorld w;
  Built b = Build(w, std::string(kHeader) + R"(
[mem_item.late]
stage = "three"
key = "late"
[mem_item.early]
stage = "one"
key = "early"
)");
  REQUIRE(b.ok);
  CHECK(Rank(b, "mem_item.early") < Rank(b, "mem_item.late"));
}

TEST_CASE("a cycle of after and references is listed whole, each edge with its place") {
  TestWorld w;
  Built b = Build(w, std::string(kHeader) + R"(
[mem_item.a]
key = "a"
after = ["mem_item.c"]
[mem_item.b]
key = "b"
after = ["mem_item.a"]
[mem_item.c]
key = "c"
value = "x-${mem_item.b.value}"
)");
  CHECK_FALSE(b.ok);
  CHECK(TestWorld::Errors(b.load) ==
        "spec.toml:7:10: error: dependency cycle: mem_item.c → mem_item.a → mem_item.b → mem_item.c\n"
        " 7 | after = [\"mem_item.c\"]\n"
        "   |          ^\n"
        "  mem_item.a comes after mem_item.c (spec.toml:7:10)\n"
        "  mem_item.b comes after mem_item.a (spec.toml:10:10)\n"
        "  mem_item.c refers to mem_item.b (spec.toml:13:12)\n");
}

TEST_CASE("depending on a resource of a later stage is a cycle through the stage order") {
  TestWorld w;
  Built b = Build(w, std::string(kHeader) + R"(
[mem_item.first]
stage = "one"
key = "first"
after = ["mem_item.last"]
[mem_item.last]
stage = "three"
key = "last"
)");
  CHECK_FALSE(b.ok);
  std::string errors = TestWorld::Errors(b.load);
  CHECK(errors.find("spec.toml:8:10: error: dependency cycle: mem_item.last → mem_item.first → "
                    "stage 'two' → stage 'three' → mem_item.last\n") == 0);
  CHECK(errors.find("  mem_item.first comes after mem_item.last (spec.toml:8:10)\n") != std::string::npos);
  CHECK(errors.find("  stage 'two' begins after mem_item.first is done (spec.toml:6:9)\n") != std::string::npos);
  CHECK(errors.find("  stage 'two' comes before stage 'three' (spec.toml:3:25)\n") != std::string::npos);
  CHECK(errors.find("  mem_item.last enters at stage 'three' (spec.toml:10:9)\n") != std::string::npos);
}

TEST_CASE("DOT output clusters by stage and draws one arrow per dependency") {
  TestWorld w;
  Built b = Build(w, std::string(kHeader) + R"(
[mem_item.a]
key = "a"
value = "v"
[mem_item.a.at.three]
value = "w"
[mem_item.b]
stage = "two"
key = "b"
after = ["mem_item.a"]
value = "${mem_item.a.value}"
[check.up]
stage = "two"
kind = "tcp"
address = "127.0.0.1"
port = 1
)");
  REQUIRE(b.ok);
  CHECK(ToDot(*b.load.spec, std::nullopt) ==
        "digraph \"t\" {\n  rankdir=LR;\n  node [shape=box];\n"
        "  subgraph \"cluster_one\" {\n    label=\"stage one\";\n    \"mem_item.a\";\n  }\n"
        "  subgraph \"cluster_two\" {\n    label=\"stage two\";\n    \"mem_item.b\";\n"
        "    \"check.up\" [shape=diamond];\n  }\n"
        "  subgraph \"cluster_three\" {\n    label=\"stage three\";\n  }\n"
        "  \"mem_item.a\" -> \"mem_item.b\";\n}\n");
  // --stage three: only what acts there (a's overlay), and no edge to what does not.
  CHECK(ToDot(*b.load.spec, 2) ==
        "digraph \"t\" {\n  rankdir=LR;\n  node [shape=box];\n"
        "  subgraph \"cluster_three\" {\n    label=\"stage three\";\n    \"mem_item.a\";\n  }\n}\n");
}
