// Signed S3 requests over the HTTP seam (providers/http): SigV4 by libcurl (CURLOPT_AWS_SIGV4), with the
// payload's SHA-256 in x-amz-content-sha256 so S3 checks the body too. Many requests run at
// once on one curl multi handle (its connections reused), a bounded number in flight; 5xx,
// SlowDown, throttling and transport failures are retried with jittered backoff.
//
// Failures are values (S3Response::ok() false with a message), never exceptions.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "providers/http/http_client.h"

namespace reconcile::s3 {

using http::UriEncode;

struct Endpoint {
  std::string url;     // "https://s3.us-west-2.amazonaws.com", no trailing slash
  std::string region;  // the signing region: "us-west-2"
  std::string access_key;
  std::string secret_key;
  std::string session_token;  // a temporary session's, sent as X-Amz-Security-Token; "" = none
  bool path_style = true;     // https://host/bucket/key, or https://bucket.host/key
  std::string ca_file;        // "" = the system's CAs; TLS is always verified
  bool ca_file_only = true;   // trust ca_file alone (a private server's CA), or besides the system's
  int max_attempts = 5;       // tries per request on retryable failures
};

struct Request {
  std::string method = "GET";
  std::string bucket;                                      // "" = the service (ListBuckets)
  std::string key;                                         // "" = the bucket itself
  std::vector<std::pair<std::string, std::string>> query;  // "versioning" → ""; sorted when sent
  std::vector<std::string> headers;                        // "Name: value"
  std::shared_ptr<const std::string> body;                 // null = none
};

struct Response : http::Response {
  Response() = default;
  explicit Response(http::Response r) : http::Response(std::move(r)) {}

  std::string ErrorCode() const;  // S3's <Code>, "" when none
  // One line for an operator: "403 SignatureDoesNotMatch: The request signature …".
  std::string Describe() const;
};

// Byte counters for progress lines; called from the thread running Run.
struct Progress {
  std::function<void(std::size_t index, const Response&)> done;  // after each request ends
};

class Client {
 public:
  explicit Client(Endpoint endpoint);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const Endpoint& endpoint() const { return endpoint_; }

  Response Do(const Request& request);
  // Runs every request, at most `parallel` at a time; out[i] answers requests[i].
  std::vector<Response> Run(const std::vector<Request>& requests, int parallel, const Progress& progress = {});

 private:
  Endpoint endpoint_;
  std::unique_ptr<http::Client> http_;
};

using http::UriDecode;
std::string Md5Hex(const std::string& data);
std::string Md5Base64(const std::string& data);  // for Content-MD5

}  // namespace reconcile::s3
