// The AWS seam without a server: where credentials come from (the AWS tools' order, their
// files' two section styles), where each service is reached and signed for, the form
// encoding the SDKs use, and AWS's error shapes.
#include <doctest/doctest.h>

#include <fstream>
#include <map>

#include "providers/aws/aws_api.h"
#include "providers/aws/credentials.h"
#include "tests/support/temp_dir.h"

using namespace reconcile;
using namespace reconcile::aws;

namespace {

struct World {
  TempDir dir;
  std::map<std::string, std::string> env;
  CredentialWorld Get() const {
    CredentialWorld w;
    auto copy = env;
    w.env = [copy](const std::string& name) -> std::optional<std::string> {
      auto it = copy.find(name);
      if (it == copy.end()) return std::nullopt;
      return it->second;
    };
    w.home = dir.path.string();
    return w;
  }
  void Write(const std::string& rel, const std::string& text) {
    std::filesystem::create_directories((dir.path / rel).parent_path());
    std::ofstream(dir.path / rel) << text;
  }
};

std::string Message(const Result<Credentials>& r) { return r ? std::string() : r.error().message; }

}  // namespace

TEST_CASE("credentials: the provider's keys, then the environment, then a profile") {
  World w;
  w.env = {{"AWS_ACCESS_KEY_ID", "ENVKEY"}, {"AWS_SECRET_ACCESS_KEY", "envsecret"}, {"AWS_SESSION_TOKEN", "tok"}};
  w.Write(".aws/credentials", "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = filesecret\n");

  auto given = ResolveCredentials({.access_key = "GIVEN", .secret_key = "givensecret"}, w.Get());
  REQUIRE_MESSAGE(given, Message(given));
  CHECK(given->access_key == "GIVEN");
  CHECK(given->session_token.empty());

  auto env = ResolveCredentials({}, w.Get());
  REQUIRE_MESSAGE(env, Message(env));
  CHECK(env->access_key == "ENVKEY");
  CHECK(env->secret_key == "envsecret");
  CHECK(env->session_token == "tok");

  w.env.clear();
  auto file = ResolveCredentials({}, w.Get());
  REQUIRE_MESSAGE(file, Message(file));
  CHECK(file->access_key == "FILEKEY");
  CHECK(file->source.find("profile default in ") == 0);
}

TEST_CASE("credentials: a half-given pair is an error, not a fall-through") {
  World w;
  w.env = {{"AWS_ACCESS_KEY_ID", "ENVKEY"}};
  w.Write(".aws/credentials", "[default]\naws_access_key_id = FILEKEY\naws_secret_access_key = s\n");
  CHECK(Message(ResolveCredentials({}, w.Get())) ==
        "the environment gives AWS_ACCESS_KEY_ID without AWS_SECRET_ACCESS_KEY");
  CHECK(Message(ResolveCredentials({.secret_key = "x"}, w.Get())) ==
        "the provider gives secret_key without access_key");
}

TEST_CASE("credentials: profiles are [NAME] in credentials, [profile NAME] in config; credentials wins") {
  World w;
  w.Write(".aws/credentials", "# team keys\n[ops]\naws_access_key_id = CRED\naws_secret_access_key = c\n");
  w.Write(".aws/config",
          "[profile ops]\nregion = eu-west-1\naws_access_key_id = CONF\naws_secret_access_key = k\n"
          "[profile cfgonly]\naws_access_key_id = ONLY\naws_secret_access_key = o\n"
          "[wrongstyle]\naws_access_key_id = NO\naws_secret_access_key = n\n"
          "[profile assume]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = ops\n");
  auto ops = ResolveCredentials({.profile = "ops"}, w.Get());
  REQUIRE_MESSAGE(ops, Message(ops));
  CHECK(ops->access_key == "CRED");
  w.env = {{"AWS_PROFILE", "cfgonly"}};
  auto only = ResolveCredentials({}, w.Get());
  REQUIRE_MESSAGE(only, Message(only));
  CHECK(only->access_key == "ONLY");
  CHECK(Message(ResolveCredentials({.profile = "wrongstyle"}, w.Get())).find("no profile wrongstyle in ") == 0);
  CHECK(Message(ResolveCredentials({.profile = "assume"}, w.Get())).find("uses role_arn, which reconcile does not") !=
        std::string::npos);
}

TEST_CASE("credentials: a profile the provider names wins over the environment's keys, as --profile") {
  World w;
  w.env = {{"AWS_ACCESS_KEY_ID", "STAGINGKEY"}, {"AWS_SECRET_ACCESS_KEY", "staging"}};
  w.Write(".aws/credentials", "[prod]\naws_access_key_id = PRODKEY\naws_secret_access_key = prod\n");
  auto prod = ResolveCredentials({.profile = "prod"}, w.Get());
  REQUIRE_MESSAGE(prod, Message(prod));
  CHECK(prod->access_key == "PRODKEY");
  // AWS_PROFILE does not: the environment's keys come first, as for the AWS CLI.
  w.env["AWS_PROFILE"] = "prod";
  auto env = ResolveCredentials({}, w.Get());
  REQUIRE_MESSAGE(env, Message(env));
  CHECK(env->access_key == "STAGINGKEY");
}

TEST_CASE("credentials: none anywhere says every way to give them") {
  World w;
  auto none = ResolveCredentials({}, w.Get());
  REQUIRE_FALSE(none);
  CHECK(none.error().message.find("no AWS credentials: give access_key and secret_key") == 0);
  CHECK(none.error().code == ErrorCode::kRefused);
  w.env = {{"AWS_SHARED_CREDENTIALS_FILE", (w.dir.path / "elsewhere").string()}};
  w.Write("elsewhere", "[default]\naws_access_key_id = ELSE\naws_secret_access_key = e\n");
  auto elsewhere = ResolveCredentials({}, w.Get());
  REQUIRE_MESSAGE(elsewhere, Message(elsewhere));
  CHECK(elsewhere->access_key == "ELSE");
}

TEST_CASE("endpoints: regional services in their region, IAM and Route 53 signed for us-east-1") {
  Endpoint ec2 = EndpointFor("ec2", "eu-west-1", "");
  CHECK(ec2.url == "https://ec2.eu-west-1.amazonaws.com");
  CHECK(ec2.signing_region == "eu-west-1");
  Endpoint iam = EndpointFor("iam", "eu-west-1", "");
  CHECK(iam.url == "https://iam.amazonaws.com");
  CHECK(iam.signing_region == "us-east-1");
  CHECK(EndpointFor("route53", "ap-south-1", "").signing_region == "us-east-1");
  CHECK(EndpointFor("route53", "cn-north-1", "").signing_region == "cn-northwest-1");
  CHECK(EndpointFor("rds", "cn-north-1", "").url == "https://rds.cn-north-1.amazonaws.com.cn");
  Endpoint lab = EndpointFor("iam", "eu-west-1", "http://127.0.0.1:14566/");
  CHECK(lab.url == "http://127.0.0.1:14566");
  CHECK(lab.signing_region == "us-east-1");
}

TEST_CASE("form encoding as the SDKs write it: space as +, ~ kept, the rest %XX") {
  CHECK(FormEncode({{"Action", "CreateUser"}, {"Path", "/a b/"}, {"UserName", "a~b"}}) ==
        "Action=CreateUser&Path=%2Fa+b%2F&UserName=a~b");
  CHECK(FormEncode({{"Doc", "{\"k\": \"v+w\"}"}}) == "Doc=%7B%22k%22%3A+%22v%2Bw%22%7D");
}

TEST_CASE("AWS's error shapes: EC2's, the others', moto's") {
  auto ec2 = ParseApiError(
      "<Response><Errors><Error><Code>InvalidGroup.NotFound</Code><Message>no such group</Message></Error></Errors>"
      "<RequestID>r</RequestID></Response>");
  REQUIRE(ec2);
  CHECK(ec2->code == "InvalidGroup.NotFound");
  CHECK(ec2->message == "no such group");
  auto iam = ParseApiError(
      "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>"
      "<Code>NoSuchEntity</Code><Message>The user with name x cannot be found.</Message></Error></ErrorResponse>");
  REQUIRE(iam);
  CHECK(iam->code == "NoSuchEntity");
  CHECK_FALSE(ParseApiError("<Fine/>"));
  CHECK_FALSE(ParseApiError("not xml"));
  CHECK(IsThrottling("Throttling"));
  CHECK(IsThrottling("RequestLimitExceeded"));
  CHECK_FALSE(IsThrottling("InvalidPermission.Duplicate"));
}
