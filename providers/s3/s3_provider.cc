#include "providers/s3/s3_provider.h"

#include <thread>

#include "providers/aws/aws_api.h"
#include "providers/s3/bucket.h"
#include "providers/s3/sync.h"

namespace reconcile {

namespace s3 {

// The keys of a [provider.s3.NAME].
std::vector<AttrSchema> EndpointKeys() {
  return {
      // clang-format off
      {.name = "endpoint", .type = AttrType::kString, .required = true,
       .doc = "the S3 endpoint URL, e.g. \"https://s3.us-west-2.amazonaws.com\""},
      {.name = "region", .type = AttrType::kString, .default_value = "us-east-1", .doc = "the signing region"},
      {.name = "access_key", .type = AttrType::kString, .sensitive = true, .secret_ok = true,
       .doc = "the access key id (env:NAME or file:PATH)"},
      {.name = "secret_key", .type = AttrType::kString, .sensitive = true, .secret_ok = true,
       .doc = "the secret access key (env:NAME or file:PATH)"},
      {.name = "addressing", .type = AttrType::kString, .one_of = {"path", "virtual"},
       .doc = "\"virtual\" (bucket.host, the default for amazonaws.com) or \"path\" (host/bucket, the default "
              "elsewhere)"},
      {.name = "ca_file", .type = AttrType::kString, .doc = "a CA bundle to verify the endpoint's certificate with"},
      {.name = "transfers", .type = AttrType::kInt, .default_value = "16", .doc = "requests in flight at once"},
      {.name = "part_size_mib", .type = AttrType::kInt, .default_value = "8",
       .doc = "part size of multipart uploads, and of copies of objects over 5 GiB"},
      {.name = "multipart_threshold_mib", .type = AttrType::kInt, .default_value = "16",
       .doc = "files this large or larger are uploaded in parts (a copy between buckets is one request up "
              "to 5 GiB)"},
      // clang-format on
  };
}

namespace {

// An AWS account's S3: credentials found as for every AWS type (aws::AccountFor), at AWS's
// endpoint for the region addressed by virtual host, as AWS prefers, or at the provider's
// `endpoint` addressed by path (a test server such as moto has no host per bucket). The keys
// of a [provider.s3.NAME] it lacks (transfers, part sizes) are at their defaults.
Result<Endpoint> AwsEndpoint(const ProviderConfig& config) {
  auto account = aws::AccountFor(config, "s3");
  if (!account) return account.error();
  Endpoint ep;
  ep.url = account->endpoint.url;
  ep.region = account->endpoint.signing_region;
  ep.access_key = account->credentials.access_key;
  ep.secret_key = account->credentials.secret_key;
  ep.session_token = account->credentials.session_token;
  ep.path_style = !StringAttr(config.attrs, "endpoint").empty();
  ep.ca_file = account->options.ca_file;
  ep.ca_file_only = false;  // as the account's other services trust it: besides the system's CAs
  return ep;
}

}  // namespace

Result<Endpoint> EndpointFor(const Target& target) {
  if (!target.provider) return Error{target.address + ": no [provider.s3.NAME] or [provider.aws.NAME] for it"};
  if (target.provider->kind == "aws") return AwsEndpoint(*target.provider);
  const AttrMap& a = target.provider->attrs;
  const std::string where = "provider." + target.provider->name;
  Endpoint ep;
  ep.url = StringAttr(a, "endpoint");
  while (!ep.url.empty() && ep.url.back() == '/') ep.url.pop_back();
  if (ep.url.rfind("http://", 0) != 0 && ep.url.rfind("https://", 0) != 0)
    return Error{where +
                 ": endpoint must be an http:// or https:// URL, such as \"https://s3.us-west-2.amazonaws.com\""};
  ep.region = StringAttr(a, "region");  // at its default when not written (ResolveProvider)
  ep.access_key = StringAttr(a, "access_key");
  ep.secret_key = StringAttr(a, "secret_key");
  if (ep.access_key.empty() || ep.secret_key.empty())
    return Error{where + ": access_key and secret_key are needed (write them as env:NAME or file:PATH)"};
  std::string host = ep.url.substr(ep.url.find("://") + 3);
  host = host.substr(0, host.find_first_of(":/"));
  bool aws = host.size() > 14 && host.compare(host.size() - 14, 14, ".amazonaws.com") == 0;
  ep.path_style = StringAttr(a, "addressing", aws ? "virtual" : "path") == "path";
  ep.ca_file = StringAttr(a, "ca_file");
  return ep;
}

std::int64_t PositiveKey(const Target& target, const std::string& key) {
  auto n = target.provider ? IntAttr(target.provider->attrs, key) : std::nullopt;
  if (n && *n > 0) return *n;
  static const std::vector<AttrSchema> keys = EndpointKeys();
  const AttrSchema* a = FindAttr(keys, key);
  Value d = a ? DefaultValue(*a) : Value{};
  return std::holds_alternative<std::int64_t>(d) ? std::get<std::int64_t>(d) : 1;
}

int TransfersFor(const Target& target) {
  return static_cast<int>(std::min<std::int64_t>(PositiveKey(target, "transfers"), 256));
}

}  // namespace s3

std::vector<TypeSchema> S3Provider::Types() const { return {s3::BucketType(), s3::SyncType()}; }

std::vector<ProviderKindSchema> S3Provider::Kinds() const {
  return {{.kind = "s3",
           .doc = "An S3-compatible endpoint; requests are SigV4-signed, TLS is always verified. On AWS itself, "
                  "`s3_bucket` and `s3_sync` may name a `[provider.aws.NAME]` instead.",
           .attrs = s3::EndpointKeys()}};
}

void S3Provider::Probe(std::span<const Target* const> targets, std::vector<Result<State>>* out) {
  out->assign(targets.size(), Error{"not probed"});
  // Each resource is read on its own connections, all at once: syncs are listings that wait
  // on the network, not on this machine.
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    threads.emplace_back([&, i] {
      const Target& t = *targets[i];
      if (t.type->name == "s3_sync") {
        (*out)[i] = s3::ProbeSync(t);
        return;
      }
      auto ep = s3::EndpointFor(t);
      if (!ep) {
        (*out)[i] = ep.error();
        return;
      }
      s3::Client client(*ep);
      auto s = s3::ProbeBucket(client, t);
      (*out)[i] = std::move(s);
    });
  }
  for (std::thread& th : threads) th.join();
}

Result<State> S3Provider::Apply(const Change& change) {
  const Target& t = change.target;
  if (t.type->name == "s3_sync") return s3::ApplySync(change);
  auto ep = s3::EndpointFor(t);
  if (!ep) return ep.error();
  s3::Client client(*ep);
  return s3::ApplyBucket(client, change);
}

void S3Provider::Review(const TypeSchema& type, const State& prior, const State& desired, Diff* diff) {
  if (type.name == "s3_sync") s3::ReviewSync(prior, desired, diff);
  else s3::ReviewBucket(prior, desired, diff);
}

}  // namespace reconcile
