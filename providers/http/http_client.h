// The one way reconcile talks HTTP (ninja keeps one subprocess seam; this is ours for HTTP):
// libcurl, and nothing else includes it. TLS is always verified (the system's CAs, and a
// ca_file of the team's own); timeouts; many requests at once on one multi handle, connections
// (and TLS sessions) reused; retries with jittered backoff on what the caller calls retryable
// (transport failures, 429 and 5xx unless told otherwise); AWS SigV4 signed by libcurl
// (CURLOPT_AWS_SIGV4). S3, the PowerDNS API and the http check are built on it.
//
// Failures are values (Response::ok() false with transport_error or a status), never thrown.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace reconcile::http {

struct Request {
  std::string method = "GET";               // HEAD asks for no body; PUT and POST always send one, if empty
  std::string url;                          // complete, its query encoded (and sorted, where it is signed)
  std::vector<std::string> headers;         // "Name: value"
  std::shared_ptr<const std::string> body;  // null = none
};

struct Response {
  long status = 0;              // 0 = no HTTP answer (see transport_error)
  std::string transport_error;  // why no answer came: "connection refused", a timeout, …
  bool bad_url = false;         // the URL itself cannot be requested (malformed, unknown scheme)
  bool not_sent = false;        // never sent: libcurl could not be loaded (transport_error says why)
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
  int attempts = 0;

  bool ok() const { return transport_error.empty() && status >= 200 && status < 300; }
  std::string Header(const std::string& lower_name) const;
};

struct Sigv4 {
  std::string scope;  // "aws:amz:REGION:SERVICE"
  std::string access_key;
  std::string secret_key;
};

struct Options {
  std::string ca_file;        // PEM of CAs trusted besides the system's ("" = the system's)
  bool ca_file_only = false;  // trust ca_file alone (a private S3-compatible server's CA)
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds timeout{0};            // the whole request; 0 = none
  long stall_seconds = 60;                         // under 1 byte/s this long is a timeout; 0 = never
  int max_attempts = 1;                            // tries per request on retryable failures
  std::function<bool(const Response&)> retryable;  // unset: transport failures, 429 and 5xx
  std::optional<Sigv4> sigv4;
  std::vector<std::string> resolve;  // curl's --resolve: "NAME:PORT:ADDRESS"
  bool path_as_is = false;           // send (and sign) the path as written, "./" and "//" kept
  std::size_t max_body = 0;          // keep at most this much of a body (0 = all)
  std::string user_agent = "reconcile";
  // Asked while requests run (every 50 ms at least): true abandons them all, each answered
  // with transport_error "abandoned" (a webhook given up on at the end of a run).
  std::function<bool()> abandon;
};

// Called from the thread running Run, after each request ends (retries included).
struct Progress {
  std::function<void(std::size_t index, const Response&)> done;
};

class Client {
 public:
  explicit Client(Options options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const Options& options() const { return options_; }

  Response Do(const Request& request);
  // Runs every request, at most `parallel` at a time; out[i] answers requests[i].
  std::vector<Response> Run(const std::vector<Request>& requests, int parallel, const Progress& progress = {});

 private:
  struct Multi;
  Options options_;
  std::unique_ptr<Multi> multi_;
};

// AWS's UriEncode: every byte but A-Z a-z 0-9 - _ . ~ as %XX (upper-case hex), '/' kept when
// `keep_slash` (an S3 key in a path). SigV4 signs what this writes.
std::string UriEncode(const std::string& s, bool keep_slash);

// Its inverse; `plus_is_space` for listings asked for with encoding-type=url (AWS encodes a
// space there as '+', as form encoding does).
std::string UriDecode(const std::string& s, bool plus_is_space = false);

// The host and port a URL names (the scheme's default port when it names none); {"", ""}
// when it does not parse.
std::pair<std::string, std::string> HostAndPort(const std::string& url);

}  // namespace reconcile::http
