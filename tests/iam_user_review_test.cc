// iam_user without a server: its load-time checks (names, paths, JSON), and its Review, which
// compares policies as JSON and says what deleting a user loses that a rollback cannot give
// back (the lab test shows the access key through moto; the rest moto is not asked for there).
#include <doctest/doctest.h>

#include "providers/aws/aws_types.h"

using namespace reconcile;
using namespace reconcile::aws;

namespace {

std::string Check(const std::string& attr, const std::string& value) {
  static const TypeSchema type = IamUserType();
  return type.Find(attr)->check(value, {});
}

Diff Reviewed(const State& prior, const State& desired) {
  static const TypeSchema type = IamUserType();
  Diff d = Compare(type, prior, desired);
  ReviewIamUser(prior, &d);
  return d;
}

State User(const std::string& policy, const std::string& kept = "") {
  State s{true, {{"name", std::string("tmp-migrator")}, {"path", std::string("/")}, {"policy", policy}}};
  s.private_data = kept;
  return s;
}

const State kGone{false, {{"name", std::string("tmp-migrator")}}};

}  // namespace

TEST_CASE("iam_user: names, paths and policies are checked as IAM would, with what is allowed") {
  CHECK(Check("name", "tmp-migrator").empty());
  CHECK(Check("name", "a+b=c,d.e@f_g").empty());
  CHECK(Check("name", "tmp migrator").find("1 to 64 letters") != std::string::npos);
  CHECK(!Check("name", std::string(65, 'a')).empty());
  CHECK(!Check("name", "").empty());
  CHECK(Check("path", "/").empty());
  CHECK(Check("path", "/cutover/2026/").empty());
  CHECK(Check("path", "cutover/").find("starts and ends with \"/\"") != std::string::npos);
  CHECK(!Check("path", "/cutover").empty());
  CHECK(!Check("path", "/cut over/").empty());
  CHECK(!Check("path", "//").empty());
  CHECK(Check("policy", "").empty());
  CHECK(Check("policy", R"({"Version": "2012-10-17", "Statement": []})").empty());
  CHECK(Check("policy", "{\"Version\": \"2012-10-17\",\n \"Statement\" []}") ==
        "the policy is not JSON (line 2, column 14 of the policy): syntax error while parsing object separator - "
        "unexpected '['; expected ':'");
  CHECK(Check("policy", "[1, 2]").find("a policy is a JSON object") == 0);
}

TEST_CASE("iam_user: the same policy spaced or ordered otherwise is no change; another is") {
  const std::string a = R"({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]})";
  const std::string b =
      "{\n  \"Statement\": [ { \"Action\": \"s3:*\", \"Effect\": \"Allow\" } ],\n"
      "  \"Version\": \"2012-10-17\"\n}";
  const std::string c = R"({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:Get*"}]})";
  CHECK(Reviewed(User(a), User(b)).action == Action::kNone);
  Diff d = Reviewed(User(a), User(c));
  REQUIRE(d.action == Action::kUpdate);
  CHECK(d.changes.size() == 1);
  CHECK(d.changes[0].name == "policy");
  CHECK(Reviewed(User(a), User("")).action == Action::kUpdate);  // "" deletes it
}

TEST_CASE("iam_user: deleting a user says what a rollback cannot give back") {
  const std::string none = R"({"access_keys":0,"inline_policies":[],"managed_policies":[],"groups":[],)"
                           R"("login_profile":false})";
  Diff plain = Reviewed(User("", none), kGone);
  CHECK(plain.action == Action::kDelete);
  CHECK(!plain.irreversible);

  Diff keyed = Reviewed(User("", R"({"access_keys":2})"), kGone);
  CHECK(keyed.irreversible);
  CHECK(keyed.irreversible_reason ==
        "deleting tmp-migrator deletes its 2 access key(s); their secrets cannot be recovered");

  Diff all = Reviewed(User("", R"({"access_keys":0,"inline_policies":["legacy"],)"
                               R"("managed_policies":["arn:aws:iam::aws:policy/ReadOnlyAccess"],)"
                               R"("groups":["ops","dev"],"login_profile":true})"),
                      kGone);
  CHECK(all.irreversible);
  CHECK(all.irreversible_reason.find("its console password") != std::string::npos);
  CHECK(all.irreversible_reason.find("1 inline policy(ies) not reconcile's") != std::string::npos);
  CHECK(all.irreversible_reason.find("its 1 managed policy attachment(s)") != std::string::npos);
  CHECK(all.irreversible_reason.find("its membership of 2 group(s)") != std::string::npos);

  // Planned from an earlier stage's spec: nothing read yet, so it may have keys by then.
  Diff ahead = Reviewed(User(""), kGone);
  CHECK(ahead.irreversible);
  CHECK(ahead.irreversible_reason.find("deletes any access keys it has by then") != std::string::npos);
}
