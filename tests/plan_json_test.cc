// The --json plan document: its fields (docs/plan-json.md) and that no secret leaks into it.
#include <doctest/doctest.h>

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "tests/support/test_world.h"

using namespace reconcile;
using nlohmann::json;

TEST_CASE("the JSON plan has the documented shape and hides secrets") {
  TestWorld w;
  setenv("RECONCILE_JSON_SECRET", "s3cr3t-value", 1);
  w.mem->world["a"] = State{true, {{"key", "a"}, {"size", std::int64_t{1}}, {"secret", "old-secret-value"}}};
  LoadResult load = w.Load(std::string(kHeader) + R"(
[stage.two]
confirm = "go"
[mem_item.a]
key = "a"
size = 2
secret = "env:RECONCILE_JSON_SECRET"
[mem_item.b]
stage = "two"
key = "b"
after = ["mem_item.a"]
tags = ["x", "y"]
[mem_item.b.at.three]
ensure = "absent"
[check.c]
stage = "two"
kind = "tcp"
address = "127.0.0.1"
port = 9
expect = "closed"
)");
  REQUIRE_MESSAGE(load.spec, TestWorld::Errors(load));
  auto plan = TestWorld::PlanOf(load);
  REQUIRE_MESSAGE(plan, (plan ? std::string() : plan.error().message));
  std::string text = RenderJson(*load.spec, *plan, {});
  CHECK(text.find("s3cr3t-value") == std::string::npos);
  CHECK(text.find("old-secret-value") == std::string::npos);

  json doc = json::parse(text);
  CHECK(doc["format_version"] == 1);
  CHECK(doc["spec"]["name"] == "t");
  CHECK(doc["spec"]["sha256"] == load.spec->sha256);
  CHECK(doc["spec"]["sha256"].get<std::string>().size() == 64);
  CHECK(doc["journal_seq"] == 0);
  REQUIRE(doc["stages"].size() == 3);

  const json& one = doc["stages"][0];
  CHECK(one["name"] == "one");
  CHECK(one["confirm"].is_null());
  REQUIRE(one["steps"].size() == 1);
  const json& a = one["steps"][0];
  CHECK(a["address"] == "mem_item.a");
  CHECK(a["type"] == "mem_item");
  CHECK(a["action"] == "update");
  // The old secret is overwritten and, with no journal key, not kept: this cannot be undone.
  CHECK(a["irreversible"] == true);
  CHECK(a["irreversible_reason"] ==
        "the current 'secret' is sensitive and would not be kept; add key = \"env:NAME\" under [state] to seal it "
        "in the journal");
  CHECK(a["after"] == json::array());
  // A first step's reason is not kept with it but said from it (StepReason), as before.
  CHECK(a["reason"].get<std::string>().starts_with("the world differs from the spec (spec.toml:"));
  CHECK(a["reason"].get<std::string>().ends_with(") in secret, size"));
  REQUIRE(a["changes"].size() == 2);
  CHECK(a["changes"][0] == json{{"attribute", "secret"},
                                {"old", nullptr},
                                {"new", nullptr},
                                {"sensitive", true},
                                {"text", "(sensitive) → (sensitive)"}});
  CHECK(a["changes"][1] ==
        json{{"attribute", "size"}, {"old", 1}, {"new", 2}, {"sensitive", false}, {"text", "1 → 2"}});

  const json& two = doc["stages"][1];
  CHECK(two["confirm"] == "go");
  REQUIRE(two["steps"].size() == 2);
  CHECK(two["steps"][0]["action"] == "create");
  CHECK(two["steps"][0]["reason"].get<std::string>().find(" does not exist; the spec wants it from stage 'two' (") !=
        std::string::npos);
  CHECK(two["steps"][0]["changes"][1] == json{{"attribute", "tags"},
                                              {"old", nullptr},
                                              {"new", {"x", "y"}},
                                              {"sensitive", false},
                                              {"text", "[\"x\", \"y\"]"}});
  CHECK(two["steps"][1]["address"] == "check.c");
  CHECK(two["steps"][1]["action"] == "check");

  const json& three = doc["stages"][2];
  REQUIRE(three["steps"].size() == 1);
  CHECK(three["steps"][0]["action"] == "delete");
  CHECK(three["steps"][0]["changes"] == json::array());
  CHECK(three["steps"][0]["reason"].get<std::string>().find("retires it (ensure = \"absent\")") != std::string::npos);

  CHECK(doc["summary"] ==
        json{{"create", 1}, {"update", 1}, {"delete", 1}, {"check", 1}, {"irreversible", 1}, {"changes", 3}});

  // With a journal key the old secret is sealed and kept, so the same step can be undone.
  PlanOptions keeping;
  keeping.keeps_secrets = true;
  auto sealed = TestWorld::PlanOf(load, keeping);
  REQUIRE(sealed);
  CHECK(sealed->Counts().irreversible == 0);

  // --stage limits the stages listed, not the summary of the whole plan.
  RenderOptions only;
  only.only_stage = 1;
  json limited = json::parse(RenderJson(*load.spec, *plan, only));
  REQUIRE(limited["stages"].size() == 1);
  CHECK(limited["stages"][0]["name"] == "two");
}
