// The AWS Query API (EC2, RDS, IAM, STS) over the one HTTP seam: an action and its parameters
// POSTed as a form, signed with SigV4 by libcurl for the service's signing region, answered
// in XML. Errors name the action and AWS's code and message; throttling and 5xx are retried
// with backoff.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <pugixml.hpp>

#include "engine/provider.h"
#include "engine/result.h"
#include "providers/aws/credentials.h"
#include "providers/http/http_client.h"

namespace reconcile::aws {

// Where a service is reached and which region its requests are signed for.
struct Endpoint {
  std::string url;  // "https://ec2.eu-west-1.amazonaws.com"
  std::string service;
  std::string signing_region;
};

// AWS's rules: a regional service at SERVICE.REGION.amazonaws.com (.amazonaws.com.cn in
// China), signed for REGION; IAM and Route 53 are global and sign for us-east-1 (China:
// cn-north-1 and cn-northwest-1). `endpoint` ("" = none) replaces the URL (the lab, a VPC
// endpoint) and keeps the signing region, by which such a server tells services apart too.
Endpoint EndpointFor(const std::string& service, const std::string& region, const std::string& endpoint);

using Params = std::vector<std::pair<std::string, std::string>>;

// application/x-www-form-urlencoded as the AWS SDKs write it: UriEncode, a space as '+'.
std::string FormEncode(const Params& params);

// An AWS error answer's code and message, from any of its XML shapes (EC2's
// <Response><Errors><Error>, the others' <ErrorResponse><Error>): the first Code and Message;
// Route 53's <InvalidChangeBatch><Messages> as code InvalidChangeBatch, its messages joined.
struct ApiError {
  std::string code;
  std::string message;
};
std::optional<ApiError> ParseApiError(const std::string& body);

// Whether a code means "try again later" (throttling; AWS answers some with 400).
bool IsThrottling(const std::string& code);

// An answer's XML, or an Error naming the call when it is not XML.
Status ParseAnswer(const std::string& xml, const std::string& call, pugi::xml_document* doc);

// How to reach `service` for a [provider.aws.NAME]: its credentials found (ResolveCredentials),
// its endpoint (EndpointFor) and the HTTP options its table gives (ca_file), retries on.
struct Account {
  Endpoint endpoint;
  Credentials credentials;
  http::Options options;
};
Result<Account> AccountFor(const ProviderConfig& aws, const std::string& service);

class QueryClient {
 public:
  // `version`: the API's, e.g. "2016-11-15" for EC2. `base`: tries, timeouts, CA file (which
  // answers are retried, and the signing, are set here).
  QueryClient(Endpoint endpoint, Credentials credentials, std::string version,
              http::Options base = {.max_attempts = 5});

  // One action: the answer's XML on success; else an Error "SERVICE ACTION: CODE: MESSAGE",
  // kNotFound for a …NotFound / NoSuch… code, kRefused for credentials and permissions,
  // kUnreachable when nothing answered.
  Result<std::string> Call(const std::string& action, const Params& params);

  const Endpoint& endpoint() const { return endpoint_; }

 private:
  Endpoint endpoint_;
  Credentials credentials_;
  std::string version_;
  http::Client client_;
};

// The REST-XML APIs (Route 53): a method on a path, its query sorted here (SigV4 signs the
// query as sent, and libcurl does not sort it), an XML body, signed with the body's SHA-256
// in x-amz-content-sha256 (which servers that hash the payload themselves, moto, also need).
class RestClient {
 public:
  explicit RestClient(Account account);

  // The answer's XML on success; else an Error "SERVICE METHOD PATH: CODE: MESSAGE" with the
  // codes QueryClient::Call gives, and AWS's code and message in `refused` when given.
  Result<std::string> Call(const std::string& method, const std::string& path, Params query = {},
                           const std::string& body = "", ApiError* refused = nullptr);

  const Endpoint& endpoint() const { return account_.endpoint; }

 private:
  Account account_;
  http::Client client_;
};

}  // namespace reconcile::aws
