// A type that takes more than one provider kind (TypeSchema::also_provider_kinds): the S3
// types name a [provider.s3.NAME] or a [provider.aws.NAME]. The loader takes either, refuses
// any other kind naming both it takes, picks the type's own kind first when the spec leaves
// `provider` out; the S3 provider reaches an AWS account's S3 from its aws table.
#include <doctest/doctest.h>

#include <string>

#include "providers/s3/s3_provider.h"
#include "tests/support/test_world.h"

using namespace reconcile;

namespace {

const char* kProviders =
    "[provider.aws.lab]\nregion = \"eu-west-1\"\naccess_key = \"AKIDLAB\"\nsecret_key = \"lab-secret\"\n"
    "[provider.s3.minio]\nendpoint = \"http://127.0.0.1:9000\"\naccess_key = \"k\"\nsecret_key = \"s\"\n"
    "[provider.dns.campus]\nkind = \"powerdns\"\napi_url = \"http://127.0.0.1:8081\"\napi_key = \"x\"\n";

std::string SpecText(const std::string& providers, const std::string& resources) {
  return std::string(kHeader) + providers + resources;
}

// The provider instance `address` was resolved to; "(error) …" when the spec did not load.
std::string InstanceOf(TestWorld& w, const std::string& text, const std::string& address) {
  LoadResult r = w.Load(text);
  if (!r.spec) return "(error) " + TestWorld::Errors(r);
  const Resource* res = r.spec->Find(address);
  return res ? res->provider_instance : "(no such resource)";
}

}  // namespace

TEST_CASE("an s3 type names an aws provider, or an s3 one, as it likes") {
  TestWorld w;
  CHECK(InstanceOf(w, SpecText(kProviders, "[s3_bucket.b]\nname = \"bkt\"\nprovider = \"aws.lab\"\n"), "s3_bucket.b") ==
        "aws.lab");
  CHECK(InstanceOf(w, SpecText(kProviders, "[s3_bucket.b]\nname = \"bkt\"\nprovider = \"s3.minio\"\n"),
                   "s3_bucket.b") == "s3.minio");
  CHECK(InstanceOf(w,
                   SpecText(kProviders,
                            "[s3_sync.up]\nsource = \"site\"\ntarget = \"s3://bkt/\"\nprovider = "
                            "\"aws.lab\"\n"),
                   "s3_sync.up") == "aws.lab");
}

TEST_CASE("left out, the provider is the one of the type's own kind, else the one of another it takes") {
  TestWorld w;
  // Both: the s3 one, as before the type took aws ones.
  CHECK(InstanceOf(w, SpecText(kProviders, "[s3_bucket.b]\nname = \"bkt\"\n"), "s3_bucket.b") == "s3.minio");
  // Only an AWS account: that one.
  std::string aws_only = "[provider.aws.lab]\nregion = \"eu-west-1\"\n";
  CHECK(InstanceOf(w, SpecText(aws_only, "[s3_bucket.b]\nname = \"bkt\"\n"), "s3_bucket.b") == "aws.lab");
  // None: both kinds named.
  CHECK(w.FirstError(SpecText("", "[s3_bucket.b]\nname = \"bkt\"\n")) ==
        "4:12: error: s3_bucket.b needs a provider, and the spec declares no [provider.s3.NAME] or "
        "[provider.aws.NAME]");
}

TEST_CASE("a provider of a kind the type does not take is refused, naming the kinds it does") {
  TestWorld w;
  LoadResult r = w.Load(SpecText(kProviders, "[s3_bucket.b]\nname = \"bkt\"\nprovider = \"dns.campus\"\n"));
  REQUIRE(r.spec == nullptr);
  CHECK(TestWorld::Errors(r) ==
        "spec.toml:18:12: error: provider 'dns.campus' of s3_bucket.b is a [provider.dns.NAME], which a s3_bucket "
        "cannot use\n"
        " 18 | provider = \"dns.campus\"\n"
        "    |            ^\n"
        "  a s3_bucket needs a [provider.s3.NAME] or [provider.aws.NAME] table\n");
  // An aws type does not take an s3 endpoint.
  CHECK(w.FirstError(SpecText(kProviders, "[iam_user.u]\nname = \"u\"\nprovider = \"s3.minio\"\n")) ==
        "18:12: error: provider 's3.minio' of iam_user.u is a [provider.s3.NAME], which a iam_user cannot use");
  // A bare name is looked for among every kind the type takes.
  CHECK(w.FirstError(SpecText(kProviders, "[s3_bucket.b]\nname = \"bkt\"\nprovider = \"lab\"\n")) ==
        "18:12: error: unknown provider 'lab' for s3_bucket.b, did you mean 'aws.lab'?");
}

TEST_CASE("an aws account's S3: its region's endpoint by virtual host, or its own endpoint by path") {
  TestWorld w;
  auto endpoint = [&](const std::string& aws) -> Result<s3::Endpoint> {
    LoadResult r = w.Load(SpecText(aws, "[s3_bucket.b]\nname = \"bkt\"\nprovider = \"aws.lab\"\n"));
    REQUIRE_MESSAGE(r.spec, TestWorld::Errors(r));
    auto config = ResolveProvider(*r.spec, r.spec->providers.at("aws.lab"));
    REQUIRE(config);
    const Resource& res = *r.spec->Find("s3_bucket.b");
    Target t{res.address, res.schema, {}, nullptr, &*config};
    return s3::EndpointFor(t);
  };
  auto aws = endpoint(
      "[provider.aws.lab]\nregion = \"eu-west-1\"\naccess_key = \"AKIDLAB\"\nsecret_key = \"lab-secret\"\n"
      "session_token = \"tok\"\n");
  REQUIRE(aws);
  CHECK(aws->url == "https://s3.eu-west-1.amazonaws.com");
  CHECK_FALSE(aws->path_style);
  CHECK(aws->region == "eu-west-1");
  CHECK(aws->access_key == "AKIDLAB");
  CHECK(aws->secret_key == "lab-secret");
  CHECK(aws->session_token == "tok");

  auto lab = endpoint(
      "[provider.aws.lab]\nregion = \"us-east-1\"\nendpoint = \"http://127.0.0.1:14566/\"\naccess_key = \"A\"\n"
      "secret_key = \"B\"\n");
  REQUIRE(lab);
  CHECK(lab->url == "http://127.0.0.1:14566");
  CHECK(lab->path_style);
  CHECK(lab->session_token.empty());

  // Half a key pair is refused as for every AWS type, naming the provider.
  auto half = endpoint("[provider.aws.lab]\nregion = \"us-east-1\"\naccess_key = \"A\"\n");
  REQUIRE_FALSE(half);
  CHECK(half.error().message == "provider.aws.lab: the provider gives access_key without secret_key");
}
