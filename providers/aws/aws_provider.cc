#include "providers/aws/aws_provider.h"

#include <thread>

#include "providers/aws/elastic_ip.h"
#include "providers/aws/rds_snapshot.h"
#include "providers/aws/security_group_rule.h"

namespace reconcile {

namespace aws {

Result<std::unique_ptr<QueryClient>> ClientFor(const Target& t, const std::string& service,
                                               const std::string& version) {
  if (!t.provider) return Error{t.address + ": no [provider.aws.NAME] for it", ErrorCode::kInvalid};
  const AttrMap& a = t.provider->attrs;
  auto creds = ResolveCredentials({.access_key = StringAttr(a, "access_key"),
                                   .secret_key = StringAttr(a, "secret_key"),
                                   .session_token = StringAttr(a, "session_token"),
                                   .profile = StringAttr(a, "profile")},
                                  CredentialWorld::System());
  if (!creds) return Error{"provider." + t.provider->name + ": " + creds.error().message, creds.error().code};
  std::string endpoint = StringAttr(a, "endpoint");
  if (!endpoint.empty() && endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0)
    return Error{"provider." + t.provider->name + ": endpoint must be an http:// or https:// URL", ErrorCode::kInvalid};
  http::Options o;
  o.ca_file = StringAttr(a, "ca_file");
  return std::make_unique<QueryClient>(EndpointFor(service, StringAttr(a, "region"), endpoint), std::move(*creds),
                                       version, std::move(o));
}

}  // namespace aws

namespace {

// The API each type speaks.
struct Service {
  const char* name;
  const char* version;
};
Service ServiceOf(const Target& t) {
  if (t.type->name == "rds_snapshot") return {"rds", "2014-10-31"};
  return {"ec2", "2016-11-15"};
}

Result<State> ProbeOne(const Target& t) {
  Service s = ServiceOf(t);
  auto client = aws::ClientFor(t, s.name, s.version);
  if (!client) return client.error();
  if (t.type->name == "rds_snapshot") return aws::ProbeRdsSnapshot(**client, t);
  if (t.type->name == "security_group_rule") return aws::ProbeSecurityGroupRule(**client, t);
  return aws::ProbeElasticIp(**client, t);
}

}  // namespace

std::vector<TypeSchema> AwsProvider::Types() const {
  return {aws::ElasticIpType(), aws::RdsSnapshotType(), aws::SecurityGroupRuleType()};
}

std::vector<ProviderKindSchema> AwsProvider::Kinds() const {
  return {{.kind = "aws",
           .doc = "An AWS account in one region. Without keys, credentials are found as the AWS CLI finds them: "
                  "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, then a profile in ~/.aws/credentials and "
                  "~/.aws/config.",
           .attrs = {
               // clang-format off
               {.name = "region", .type = AttrType::kString, .required = true, .doc = "the region, e.g. \"eu-west-1\""},
               {.name = "access_key", .type = AttrType::kString, .sensitive = true, .secret_ok = true,
                .doc = "the access key id (env:NAME or file:PATH)"},
               {.name = "secret_key", .type = AttrType::kString, .sensitive = true, .secret_ok = true,
                .doc = "the secret access key (env:NAME or file:PATH)"},
               {.name = "session_token", .type = AttrType::kString, .sensitive = true, .secret_ok = true,
                .doc = "a temporary session's token (env:NAME or file:PATH)"},
               {.name = "profile", .type = AttrType::kString,
                .doc = "a profile of ~/.aws/credentials or ~/.aws/config (else AWS_PROFILE, else default)"},
               {.name = "endpoint", .type = AttrType::kString,
                .doc = "one URL for every service instead of AWS's own (a VPC endpoint, a test server)"},
               {.name = "ca_file", .type = AttrType::kString, .doc = "a CA bundle to verify the endpoint's certificate with"},
               // clang-format on
           }}};
}

void AwsProvider::Probe(std::span<const Target* const> targets, std::vector<Result<State>>* out) {
  out->assign(targets.size(), Error{"not probed"});
  // Each on its own connection, at once: the time is AWS's answering, not this machine's.
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    threads.emplace_back([&, i] {
      const Target& t = *targets[i];
      (*out)[i] = ProbeOne(t);
    });
  }
  for (std::thread& th : threads) th.join();
}

Result<State> AwsProvider::Apply(const Change& change) {
  const Target& t = change.target;
  Service s = ServiceOf(t);
  auto client = aws::ClientFor(t, s.name, s.version);
  if (!client) return client.error();
  if (t.type->name == "rds_snapshot") return aws::ApplyRdsSnapshot(**client, change);
  if (t.type->name == "security_group_rule") return aws::ApplySecurityGroupRule(**client, change);
  return aws::ApplyElasticIp(**client, change);
}

void AwsProvider::Review(const TypeSchema& type, const State&, const State&, Diff* diff) {
  if (type.name == "rds_snapshot") aws::ReviewRdsSnapshot(diff);
}

}  // namespace reconcile
