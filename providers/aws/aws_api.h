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
// <Response><Errors><Error>, the others' <ErrorResponse><Error>): the first Code and Message.
struct ApiError {
  std::string code;
  std::string message;
};
std::optional<ApiError> ParseApiError(const std::string& body);

// Whether a code means "try again later" (throttling; AWS answers some with 400).
bool IsThrottling(const std::string& code);

// An answer's XML, or an Error naming the call when it is not XML.
Status ParseAnswer(const std::string& xml, const std::string& call, pugi::xml_document* doc);

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

}  // namespace reconcile::aws
