#include "providers/aws/aws_api.h"

#include <algorithm>

#include "engine/hash.h"

namespace reconcile::aws {

namespace {

bool Global(const std::string& service) { return service == "iam" || service == "route53"; }

http::Options Signed(http::Options o, const Endpoint& e, const Credentials& c) {
  o.sigv4 = http::Sigv4{"aws:amz:" + e.signing_region + ":" + e.service, c.access_key, c.secret_key};
  o.retryable = [](const http::Response& r) {
    if (!r.transport_error.empty() && !r.bad_url && !r.not_sent) return true;
    if (r.status == 429 || r.status >= 500) return true;
    auto e = ParseApiError(r.body);
    return e && IsThrottling(e->code);
  };
  return o;
}

ErrorCode CodeOf(const std::string& code, long status) {
  auto ends = [&](const std::string& tail) {
    return code.size() >= tail.size() && code.compare(code.size() - tail.size(), tail.size(), tail) == 0;
  };
  if (ends("NotFound") || code.rfind("NoSuch", 0) == 0) return ErrorCode::kNotFound;
  if (code == "AuthFailure" || code == "SignatureDoesNotMatch" || code == "InvalidClientTokenId" ||
      code == "AccessDenied" || code == "UnauthorizedOperation" || code == "ExpiredToken" || status == 401 ||
      status == 403)
    return ErrorCode::kRefused;
  return ErrorCode::kOther;
}

// A request libcurl never sent (it could not be loaded) had no answer to wait for: said so,
// with the package to install, rather than as a server that did not answer.
std::string Unanswered(const std::string& what, const std::string& url, const http::Response& r) {
  if (r.not_sent) return what + ": nothing was sent: " + r.transport_error;
  return what + ": no answer from " + url + ": " + r.transport_error;
}

}  // namespace

Endpoint EndpointFor(const std::string& service, const std::string& region, const std::string& endpoint) {
  bool china = region.rfind("cn-", 0) == 0;
  Endpoint e;
  e.service = service;
  if (service == "iam") e.signing_region = china ? "cn-north-1" : "us-east-1";
  else if (service == "route53") e.signing_region = china ? "cn-northwest-1" : "us-east-1";
  else e.signing_region = region;
  std::string suffix = china ? ".amazonaws.com.cn" : ".amazonaws.com";
  if (!endpoint.empty()) e.url = endpoint;
  else if (Global(service) && !china) e.url = "https://" + service + suffix;
  else e.url = "https://" + service + "." + (Global(service) ? e.signing_region : region) + suffix;
  while (!e.url.empty() && e.url.back() == '/') e.url.pop_back();
  return e;
}

std::string FormEncode(const Params& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    std::string value = http::UriEncode(v, false);
    std::string plus;
    for (std::size_t i = 0; i < value.size(); ++i) {
      if (value.compare(i, 3, "%20") == 0) {
        plus += '+';
        i += 2;
      } else {
        plus += value[i];
      }
    }
    out += http::UriEncode(k, false) + "=" + plus;
  }
  return out;
}

std::optional<ApiError> ParseApiError(const std::string& body) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return std::nullopt;
  pugi::xml_node code = doc.select_node("//*[local-name()='Error']/*[local-name()='Code']").node();
  if (!code) {
    // Route 53's refused change batch: <InvalidChangeBatch><Messages><Message>…, no Code.
    pugi::xml_node batch = doc.child("InvalidChangeBatch");
    if (!batch) return std::nullopt;
    std::string messages;
    for (pugi::xml_node m : batch.child("Messages").children("Message"))
      messages += (messages.empty() ? "" : "; ") + std::string(m.child_value());
    return ApiError{"InvalidChangeBatch", messages};
  }
  pugi::xml_node message =
      code.parent().find_child([](pugi::xml_node n) { return std::string(n.name()) == "Message"; });
  return ApiError{code.text().as_string(), message.text().as_string()};
}

bool IsThrottling(const std::string& code) {
  return code == "Throttling" || code == "ThrottlingException" || code == "RequestLimitExceeded" ||
         code == "PriorRequestNotComplete" || code == "SlowDown" || code == "TooManyRequestsException" ||
         code == "RequestThrottled";
}

Result<Account> AccountFor(const ProviderConfig& aws, const std::string& service) {
  const AttrMap& a = aws.attrs;
  auto creds = ResolveCredentials({.access_key = StringAttr(a, "access_key"),
                                   .secret_key = StringAttr(a, "secret_key"),
                                   .session_token = StringAttr(a, "session_token"),
                                   .profile = StringAttr(a, "profile")},
                                  CredentialWorld::System());
  if (!creds) return Error{"provider." + aws.name + ": " + creds.error().message, creds.error().code};
  std::string endpoint = StringAttr(a, "endpoint");
  if (!endpoint.empty() && endpoint.rfind("http://", 0) != 0 && endpoint.rfind("https://", 0) != 0)
    return Error{"provider." + aws.name + ": endpoint must be an http:// or https:// URL", ErrorCode::kInvalid};
  http::Options o{.max_attempts = 5};  // throttling and 5xx, with backoff
  o.ca_file = StringAttr(a, "ca_file");
  return Account{EndpointFor(service, StringAttr(a, "region"), endpoint), std::move(*creds), std::move(o)};
}

QueryClient::QueryClient(Endpoint endpoint, Credentials credentials, std::string version, http::Options base)
    : endpoint_(std::move(endpoint)),
      credentials_(std::move(credentials)),
      version_(std::move(version)),
      client_(Signed(std::move(base), endpoint_, credentials_)) {}

Result<std::string> QueryClient::Call(const std::string& action, const Params& params) {
  Params all = {{"Action", action}, {"Version", version_}};
  all.insert(all.end(), params.begin(), params.end());
  http::Request req;
  req.method = "POST";
  req.url = endpoint_.url + "/";
  req.headers = {"Content-Type: application/x-www-form-urlencoded; charset=utf-8"};
  if (!credentials_.session_token.empty()) req.headers.push_back("X-Amz-Security-Token: " + credentials_.session_token);
  req.body = std::make_shared<const std::string>(FormEncode(all));
  http::Response r = client_.Do(req);
  std::string what = endpoint_.service + " " + action;
  if (!r.transport_error.empty()) return Error{Unanswered(what, endpoint_.url, r), ErrorCode::kUnreachable};
  if (r.ok()) return std::move(r.body);
  if (auto e = ParseApiError(r.body))
    return Error{what + ": " + e->code + ": " + e->message, CodeOf(e->code, r.status)};
  return Error{what + ": HTTP " + std::to_string(r.status) + " from " + endpoint_.url, CodeOf("", r.status)};
}

RestClient::RestClient(Account account)
    : account_(std::move(account)),
      client_(Signed(account_.options, account_.endpoint, account_.credentials)) {}

Result<std::string> RestClient::Call(const std::string& method, const std::string& path, Params query,
                                     const std::string& body, ApiError* refused) {
  std::sort(query.begin(), query.end());
  std::string q;
  for (const auto& [k, v] : query)
    q += (q.empty() ? "?" : "&") + http::UriEncode(k, false) + "=" + http::UriEncode(v, false);
  http::Request req;
  req.method = method;
  req.url = account_.endpoint.url + path + q;
  req.headers = {"x-amz-content-sha256: " + Sha256Hex(body)};
  if (!body.empty()) {
    req.headers.push_back("Content-Type: application/xml");
    req.body = std::make_shared<const std::string>(body);
  }
  if (!account_.credentials.session_token.empty())
    req.headers.push_back("X-Amz-Security-Token: " + account_.credentials.session_token);
  http::Response r = client_.Do(req);
  std::string what = account_.endpoint.service + " " + method + " " + path;
  if (!r.transport_error.empty()) return Error{Unanswered(what, account_.endpoint.url, r), ErrorCode::kUnreachable};
  if (r.ok()) return std::move(r.body);
  if (auto e = ParseApiError(r.body)) {
    if (refused) *refused = *e;
    return Error{what + ": " + e->code + ": " + e->message, CodeOf(e->code, r.status)};
  }
  return Error{
      what + ": HTTP " + std::to_string(r.status) + " from " + account_.endpoint.url + ": " + r.body.substr(0, 300),
      CodeOf("", r.status)};
}

Status ParseAnswer(const std::string& xml, const std::string& call, pugi::xml_document* doc) {
  if (doc->load_buffer(xml.data(), xml.size())) return Status::Ok();
  return Error{call + ": an answer that is not XML"};
}

}  // namespace reconcile::aws
