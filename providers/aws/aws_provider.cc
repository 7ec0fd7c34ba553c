#include "providers/aws/aws_provider.h"

#include <thread>

#include "providers/aws/aws_types.h"

namespace reconcile {

namespace {

// A client of `service` for the target's [provider.aws.NAME], its credentials found.
Result<std::unique_ptr<aws::QueryClient>> ClientFor(const Target& t, const std::string& service,
                                                    const std::string& version) {
  if (!t.provider) return Error{t.address + ": no [provider.aws.NAME] for it", ErrorCode::kInvalid};
  auto account = aws::AccountFor(*t.provider, service);
  if (!account) return account.error();
  return std::make_unique<aws::QueryClient>(std::move(account->endpoint), std::move(account->credentials), version,
                                            std::move(account->options));
}

// Each type: the API it speaks and what reads and changes one resource.
struct TypeOps {
  const char* name;
  TypeSchema (*schema)();
  const char* service;
  const char* version;
  Result<State> (*probe)(aws::QueryClient&, const Target&);
  Result<State> (*apply)(aws::QueryClient&, const Change&);
};
// clang-format off
const TypeOps kTypes[] = {
    {"elastic_ip", aws::ElasticIpType, "ec2", "2016-11-15", aws::ProbeElasticIp, aws::ApplyElasticIp},
    {"iam_user", aws::IamUserType, "iam", "2010-05-08", aws::ProbeIamUser, aws::ApplyIamUser},
    {"rds_instance", aws::RdsInstanceType, "rds", "2014-10-31", aws::ProbeRdsInstance, aws::ApplyRdsInstance},
    {"rds_snapshot", aws::RdsSnapshotType, "rds", "2014-10-31", aws::ProbeRdsSnapshot, aws::ApplyRdsSnapshot},
    {"security_group_rule", aws::SecurityGroupRuleType, "ec2", "2016-11-15", aws::ProbeSecurityGroupRule,
     aws::ApplySecurityGroupRule},
};
// clang-format on

const TypeOps& OpsOf(const Target& t) {
  for (const TypeOps& ops : kTypes)
    if (t.type->name == ops.name) return ops;
  return kTypes[0];  // the registry hands a provider only the types it declared
}

class AwsProvider : public Provider {
 public:
  std::string name() const override { return "aws"; }

  std::vector<TypeSchema> Types() const override {
    std::vector<TypeSchema> out;
    for (const TypeOps& ops : kTypes) out.push_back(ops.schema());
    return out;
  }

  std::vector<ProviderKindSchema> Kinds() const override {
    return {
        {.kind = "aws",
         .doc = "An AWS account in one region, for every AWS type (`s3_bucket` and `s3_sync` too). Without keys, "
                "credentials are found as the AWS CLI finds them: "
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

  void Probe(std::span<const Target* const> targets, std::vector<Result<State>>* out) override {
    out->assign(targets.size(), Error{"not probed"});
    // Each on its own connection, at once: the time is AWS's answering, not this machine's.
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < targets.size(); ++i)
      threads.emplace_back([&, i] {
        (*out)[i] =
            Run(*targets[i], [&](aws::QueryClient& c, const TypeOps& ops) { return ops.probe(c, *targets[i]); });
      });
    for (std::thread& th : threads) th.join();
  }

  Result<State> Apply(const Change& change) override {
    return Run(change.target, [&](aws::QueryClient& c, const TypeOps& ops) { return ops.apply(c, change); });
  }

  void Review(const TypeSchema& type, const State& prior, const State& desired, Diff* diff) override {
    if (type.name == "rds_snapshot") aws::ReviewRdsSnapshot(diff);
    if (type.name == "rds_instance") aws::ReviewRdsInstance(prior, desired, diff);
    if (type.name == "iam_user") aws::ReviewIamUser(prior, diff);
  }

 private:
  template <typename F>
  static Result<State> Run(const Target& t, F&& f) {
    const TypeOps& ops = OpsOf(t);
    auto client = ClientFor(t, ops.service, ops.version);
    if (!client) return client.error();
    return f(**client, ops);
  }
};

}  // namespace

std::unique_ptr<Provider> NewAwsProvider() { return std::make_unique<AwsProvider>(); }

}  // namespace reconcile
