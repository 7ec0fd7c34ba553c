#include "providers/s3/bucket.h"

#include <nlohmann/json.hpp>

#include "providers/s3/s3_api.h"

namespace reconcile::s3 {

namespace {

struct Setting {
  const char* attr;
  const char* query;  // the bucket subresource
  const char* what;   // for messages
};
const Setting kSettings[] = {
    {"versioning", "versioning", "bucket versioning"},
    {"encryption", "encryption", "default encryption"},
    {"public_access_block", "publicAccessBlock", "the public access block"},
    {"policy", "policy", "bucket policies"},
};

bool NotImplemented(const Response& r) {
  std::string code = r.ErrorCode();
  return r.status == 501 || r.status == 405 || code == "NotImplemented" || code == "MethodNotAllowed";
}

Request On(const std::string& bucket, const std::string& method, const std::string& sub) {
  Request r;
  r.method = method;
  r.bucket = bucket;
  if (!sub.empty()) r.query = {{sub, ""}};
  return r;
}

Request WithBody(Request r, std::string body, const char* type) {
  r.headers.push_back(std::string("Content-Type: ") + type);
  r.headers.push_back("Content-MD5: " + Md5Base64(body));
  r.body = std::make_shared<const std::string>(std::move(body));
  return r;
}

// How a server answered a setting it does not implement: "501 NotImplemented".
std::string Answer(const Response& r) {
  std::string code = r.ErrorCode();
  return std::to_string(r.status) + (code.empty() ? "" : " " + code);
}

// Reads one setting; no value, with `unsupported` set, when the server does not implement it.
Result<Value> ReadSetting(Client& client, const std::string& bucket, const Setting& s, std::string* unsupported) {
  Response r = client.Do(On(bucket, "GET", s.query));
  if (NotImplemented(r)) {
    *unsupported = Answer(r);
    return Value{};
  }
  std::string code = r.ErrorCode();
  std::string attr = s.attr;
  if (!r.ok()) {
    if (attr == "encryption" && code == "ServerSideEncryptionConfigurationNotFoundError")
      return Value{std::string("none")};
    if (attr == "public_access_block" && code == "NoSuchPublicAccessBlockConfiguration") return Value{false};
    if (attr == "policy" && code == "NoSuchBucketPolicy") return Value{std::string()};
    return Error{Failed("reading " + std::string(s.what) + " of s3://" + bucket, r)};
  }
  // s3rver ignores ?versioning and lists the bucket instead.
  if (attr == "versioning" && r.body.find("<VersioningConfiguration") == std::string::npos &&
      r.body.find("<ListBucketResult") != std::string::npos) {
    *unsupported = "answers with a listing";
    return Value{};
  }
  if (attr == "versioning") return Value{ParseVersioning(r.body) == "Enabled"};
  if (attr == "encryption") {
    std::string algorithm = ParseEncryption(r.body);
    return Value{algorithm.empty() ? std::string("none") : algorithm};
  }
  if (attr == "public_access_block") {
    auto block = ParsePublicAccessBlock(r.body);
    if (!block) return Error{"s3://" + bucket + ": " + block.error().message};
    return Value{*block};
  }
  return Value{r.body};
}

Status WriteSetting(Client& client, const std::string& bucket, const Setting& s, const Value& v) {
  std::string attr = s.attr;
  Request req;
  if (attr == "versioning") {
    req = WithBody(On(bucket, "PUT", s.query), VersioningXml(std::get<bool>(v)), "application/xml");
  } else if (attr == "encryption") {
    const std::string& algorithm = std::get<std::string>(v);
    req = algorithm == "none" ? On(bucket, "DELETE", s.query)
                              : WithBody(On(bucket, "PUT", s.query), EncryptionXml(algorithm), "application/xml");
  } else if (attr == "public_access_block") {
    req = std::get<bool>(v) ? WithBody(On(bucket, "PUT", s.query), PublicAccessBlockXml(true), "application/xml")
                            : On(bucket, "DELETE", s.query);
  } else {
    const std::string& policy = std::get<std::string>(v);
    req = policy.empty() ? On(bucket, "DELETE", s.query)
                         : WithBody(On(bucket, "PUT", s.query), policy, "application/json");
  }
  Response r = client.Do(req);
  if (r.ok()) return Status::Ok();
  // s3rver takes PUT ?versioning for a bucket create, and refuses it as one.
  if (NotImplemented(r) || (attr == "versioning" && r.ErrorCode() == "BucketAlreadyExists"))
    return Error{"the S3 server at " + client.endpoint().url + " does not implement " + s.what + " (" + r.Describe() +
                 "); nothing was set. Remove `" + attr + "` from the spec for this endpoint, or use one that has it"};
  return Error{Failed("setting " + std::string(s.what) + " of s3://" + bucket, r)};
}

std::string NormalizedPolicy(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  return j.is_discarded() ? text : j.dump();
}

}  // namespace

std::string PackUnsupported(const std::map<std::string, std::string>& why) {
  return why.empty() ? "" : nlohmann::json{{"unsupported", why}}.dump();
}

std::map<std::string, std::string> UnsupportedOf(const State& s) {
  std::map<std::string, std::string> out;
  nlohmann::json j = nlohmann::json::parse(s.private_data.str(), nullptr, false);
  if (!j.is_object() || !j.contains("unsupported") || !j["unsupported"].is_object()) return out;
  for (auto it = j["unsupported"].begin(); it != j["unsupported"].end(); ++it)
    if (it.value().is_string()) out[it.key()] = it.value().get<std::string>();
  return out;
}

TypeSchema BucketType() {
  return {
      .name = "s3_bucket",
      .doc = "An S3 bucket: that it exists, and its versioning, default encryption, public access block and policy.",
      .attrs =
          {
              // clang-format off
              {.name = "name", .type = AttrType::kString, .required = true, .identity = true,
               .pattern = "^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$",
               .pattern_hint = "3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or " "digit",
               .doc = "the bucket's name"},
              {.name = "versioning", .type = AttrType::kBool,
               .doc = "whether object versions are kept (needed to undo overwrites)"},
              {.name = "encryption", .type = AttrType::kString, .one_of = {"AES256", "aws:kms", "none"},
               .doc = "default encryption: \"AES256\", \"aws:kms\" or \"none\""},
              {.name = "public_access_block", .type = AttrType::kBool,
               .doc = "whether all four public access blocks are on"},
              {.name = "policy", .type = AttrType::kString,
               .doc = "the bucket policy, JSON (\"\" = none); compared as JSON"},
              // clang-format on
          },
      .provider_kind = "s3",
      .also_provider_kinds = {"aws"},
  };
}

Result<State> ProbeBucket(Client& client, const Target& target) {
  const std::string bucket = StringAttr(target.desired, "name");
  State s;
  s.attrs["name"] = bucket;
  // A listing of no keys, not HEAD: its errors carry S3's code (a wrong secret says so).
  Request exists = On(bucket, "GET", "");
  exists.query = {{"list-type", "2"}, {"max-keys", "0"}};
  Response r = client.Do(exists);
  if (r.status == 404 && r.ErrorCode() == "NoSuchBucket") return s;
  if (!r.ok()) return Error{Failed("reading s3://" + bucket, r)};
  s.exists = true;
  std::map<std::string, std::string> unsupported;
  for (const Setting& setting : kSettings) {
    if (!target.desired.count(setting.attr)) continue;
    std::string why;
    auto v = ReadSetting(client, bucket, setting, &why);
    if (!v) return v.error();
    if (why.empty()) s.attrs[setting.attr] = std::move(*v);
    else unsupported[setting.attr] = why;
  }
  s.private_data = PackUnsupported(unsupported);
  return s;
}

Result<State> ApplyBucket(Client& client, const Change& change) {
  const AttrMap& want = change.target.desired;
  const std::string bucket = StringAttr(want, "name");
  if (change.action == Action::kDelete) {
    Response r = client.Do(On(bucket, "DELETE", ""));
    if (r.ok() || r.ErrorCode() == "NoSuchBucket") return State{false, {{"name", bucket}}};
    if (r.ErrorCode() == "BucketNotEmpty")
      return Error{"s3://" + bucket +
                   " is not empty; reconcile removes only empty buckets. Empty it (or roll back "
                   "the sync that filled it) first"};
    return Error{Failed("deleting s3://" + bucket, r)};
  }
  if (change.action == Action::kCreate) {
    Request create = On(bucket, "PUT", "");
    const std::string& region = client.endpoint().region;
    if (region != "us-east-1")
      create =
          WithBody(create,
                   "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>" +
                       region + "</LocationConstraint></CreateBucketConfiguration>",
                   "application/xml");
    Response r = client.Do(create);
    if (!r.ok() && r.ErrorCode() != "BucketAlreadyOwnedByYou") {
      if (r.ErrorCode() == "BucketAlreadyExists")
        return Error{"s3://" + bucket + " belongs to someone else (bucket names are global); choose another name"};
      return Error{Failed("creating s3://" + bucket, r)};
    }
  }
  for (const Setting& setting : kSettings) {
    auto it = want.find(setting.attr);
    if (it == want.end() || IsNull(it->second)) continue;
    if (change.action == Action::kUpdate &&
        std::find(change.changed.begin(), change.changed.end(), setting.attr) == change.changed.end())
      continue;
    // A new bucket has none of these switched on, and needs no request to say "off".
    if (change.action == Action::kCreate && (it->second == Value{false} || it->second == Value{std::string("none")}))
      continue;
    if (Status s = WriteSetting(client, bucket, setting, it->second); !s)
      return Error{s.message() + (change.action == Action::kCreate ? " (the bucket itself was created)" : "")};
  }
  State out{true, {}};
  for (const auto& [k, v] : want) out.attrs[k] = v;
  return out;
}

void ReviewBucket(const State& prior, const State&, Diff* diff) {
  // A server that does not implement a setting has it off: asking for off is no change; asking
  // for more is shown as what it is, not as a value the bucket has.
  // A journal written before private data held such a setting as this text; going back to it
  // is going back to "not set".
  for (const AttrChange& c : std::vector<AttrChange>(diff->changes))
    if (const std::string* s = AsString(c.new_value); s && s->starts_with("not implemented by this server"))
      diff->Drop(c.name);
  for (const auto& [attr, why] : UnsupportedOf(prior)) {
    const AttrChange* c = diff->Update(attr);
    if (!c) continue;
    if (c->new_value == Value{false} || c->new_value == Value{std::string("none")} ||
        c->new_value == Value{std::string()}) {
      diff->Drop(attr);
      continue;
    }
    for (AttrChange& change : diff->changes)
      if (change.name == attr)
        change.set_summary("not implemented by this server (" + why + "), wanted " + FormatValue(change.new_value));
  }
  // Policies are compared as JSON, not as text.
  const AttrChange* policy = diff->Update("policy");
  if (!policy) return;
  const std::string* a = AsString(policy->old_value);
  const std::string* b = AsString(policy->new_value);
  if (a && b && NormalizedPolicy(*a) == NormalizedPolicy(*b)) diff->Drop("policy");
}

}  // namespace reconcile::s3
