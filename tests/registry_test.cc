// The registry refuses provider declarations the engine could not honour safely.
#include <doctest/doctest.h>

#include "engine/registry.h"

using namespace reconcile;

namespace {

struct OneType : Provider {
  AttrSchema attr;
  explicit OneType(AttrSchema a) : attr(std::move(a)) {}
  std::string name() const override { return "one"; }
  std::vector<TypeSchema> Types() const override { return {{.name = "one_thing", .attrs = {attr}}}; }
  void Probe(std::span<const Target* const> targets, std::vector<Result<State>>* out) override {
    out->assign(targets.size(), State{});
  }
  Result<State> Apply(const Change&) override { return State{}; }
};

}  // namespace

TEST_CASE("registry: a write_only attribute must be sensitive, or the journal would keep it in clear") {
  Registry r;
  Status s = r.Add(std::make_unique<OneType>(AttrSchema{.name = "password", .write_only = true}));
  REQUIRE_FALSE(s);
  CHECK(s.message() ==
        "attribute 'password' of 'one_thing' is write_only but not sensitive: the journal would keep it in clear");
  Registry ok;
  CHECK(ok.Add(std::make_unique<OneType>(AttrSchema{.name = "password", .sensitive = true, .write_only = true})));
}
