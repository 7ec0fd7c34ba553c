// The AWS Query API against the lab's moto, whose signature checking is on: a request signed
// with the lab's key is answered, one signed with a wrong secret is refused (so a signing
// mistake fails here), and AWS's errors come back with their code, mapped to ours.
#include <doctest/doctest.h>

#include <unistd.h>

#include "providers/aws/aws_api.h"
#include "tests/support/lab_env.h"

using namespace reconcile;
using namespace reconcile::aws;

namespace {

QueryClient Client(const std::map<std::string, std::string>& env, const std::string& service,
                   const std::string& version, const std::string& secret = "") {
  Credentials c{env.at("AWS_LAB_ACCESS_KEY"), secret.empty() ? env.at("AWS_LAB_SECRET_KEY") : secret, "", "lab"};
  return QueryClient(EndpointFor(service, env.at("AWS_REGION"), env.at("AWS_ENDPOINT")), c, version);
}

std::string Message(const Result<std::string>& r) { return r ? std::string() : r.error().message; }

}  // namespace

TEST_CASE("a request signed with the lab's key is answered, each service by its scope") {
  auto env = LabEnv();
  auto ec2 = Client(env, "ec2", "2016-11-15").Call("DescribeSecurityGroups", {{"GroupName.1", "default"}});
  REQUIRE_MESSAGE(ec2, Message(ec2));
  CHECK(ec2->find("<groupName>default</groupName>") != std::string::npos);
  auto iam = Client(env, "iam", "2010-05-08").Call("GetUser", {{"UserName", "lab"}});
  REQUIRE_MESSAGE(iam, Message(iam));
  CHECK(iam->find("<UserName>lab</UserName>") != std::string::npos);
  // A value with a space, a slash and JSON: encoded as the server re-encodes it to check.
  const std::string user = "api-test-" + std::to_string(::getpid());  // a lab may serve more than one run
  auto path = Client(env, "iam", "2010-05-08").Call("CreateUser", {{"UserName", user}, {"Path", "/cut over/"}});
  REQUIRE_MESSAGE(path, Message(path));
  auto policy =
      Client(env, "iam", "2010-05-08")
          .Call("PutUserPolicy", {{"UserName", user},
                                  {"PolicyName", "p"},
                                  {"PolicyDocument", R"({"Version": "2012-10-17", "Statement": [)"
                                                     R"({"Effect": "Deny", "Action": "s3:*", "Resource": "*"}]})"}});
  CHECK_MESSAGE(policy, Message(policy));
}

TEST_CASE("a wrong secret is refused, named by AWS's code") {
  auto env = LabEnv();
  auto ec2 = Client(env, "ec2", "2016-11-15", "not-the-secret").Call("DescribeSecurityGroups", {});
  REQUIRE_FALSE(ec2);
  CHECK(ec2.error().code == ErrorCode::kRefused);
  CHECK(ec2.error().message.find("ec2 DescribeSecurityGroups: AuthFailure: ") == 0);
  auto iam = Client(env, "iam", "2010-05-08", "not-the-secret").Call("GetUser", {{"UserName", "lab"}});
  REQUIRE_FALSE(iam);
  CHECK(iam.error().code == ErrorCode::kRefused);
  CHECK(iam.error().message.find("iam GetUser: SignatureDoesNotMatch: ") == 0);
}

TEST_CASE("what is not there is kNotFound, with AWS's code and message") {
  auto env = LabEnv();
  auto group = Client(env, "ec2", "2016-11-15").Call("DescribeSecurityGroups", {{"GroupId.1", "sg-0000000000"}});
  REQUIRE_FALSE(group);
  CHECK(group.error().code == ErrorCode::kNotFound);
  CHECK(group.error().message.find("ec2 DescribeSecurityGroups: InvalidGroup.NotFound: ") == 0);
  auto user = Client(env, "iam", "2010-05-08").Call("GetUser", {{"UserName", "nobody-here"}});
  REQUIRE_FALSE(user);
  CHECK(user.error().code == ErrorCode::kNotFound);
}

TEST_CASE("no server: kUnreachable, naming where it asked") {
  Credentials c{"K", "S", "", "test"};
  auto r = QueryClient(EndpointFor("ec2", "us-east-1", "http://127.0.0.1:1"), c, "2016-11-15", {.max_attempts = 1})
               .Call("DescribeSecurityGroups", {});
  REQUIRE_FALSE(r);
  CHECK(r.error().code == ErrorCode::kUnreachable);
  CHECK(r.error().message.find("ec2 DescribeSecurityGroups: no answer from http://127.0.0.1:1: ") == 0);
}
