#include "providers/s3/s3_client.h"

#include "engine/hash.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <chrono>
#include <deque>
#include <mutex>
#include <strings.h>
#include <random>
#include <thread>

#include <pugixml.hpp>

namespace reconcile::s3 {

namespace {

using Clock = std::chrono::steady_clock;

std::string DigestHex(const EVP_MD* md, const std::string& data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out, &n, md, nullptr);
  static const char* hex = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (unsigned int i = 0; i < n; ++i) {
    s += hex[out[i] >> 4];
    s += hex[out[i] & 15];
  }
  return s;
}

const std::string& EmptySha256() {
  static const std::string h = Sha256Hex("");
  return h;
}

bool Retryable(const Response& r) {
  if (!r.transport_error.empty()) return true;  // timeouts, refused or reset connections
  if (r.status == 500 || r.status == 502 || r.status == 503 || r.status == 504 || r.status == 429) return true;
  std::string code = r.ErrorCode();
  return code == "SlowDown" || code == "RequestTimeout" || code == "InternalError" || code == "Throttling";
}

}  // namespace

std::string Md5Hex(const std::string& data) { return DigestHex(EVP_md5(), data); }

std::string Md5Base64(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_md5(), nullptr);
  return Base64Encode(std::string_view(reinterpret_cast<char*>(md), n));
}

std::string Response::ErrorCode() const {
  if (body.empty() || body.find("<Error") == std::string::npos) return "";
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return "";
  return doc.child("Error").child_value("Code");
}

std::string Response::Describe() const {
  if (!transport_error.empty()) return transport_error;
  std::string out = std::to_string(status);
  pugi::xml_document doc;
  if (!body.empty() && doc.load_buffer(body.data(), body.size()) && doc.child("Error")) {
    std::string code = doc.child("Error").child_value("Code");
    std::string message = doc.child("Error").child_value("Message");
    if (!code.empty()) out += " " + code;
    if (!message.empty()) out += ": " + message;
  } else if (status == 404) {
    out += " Not Found";
  } else if (status == 403) {
    out += " Forbidden";
  }
  return out;
}

Client::Client(Endpoint endpoint) : endpoint_(std::move(endpoint)) {
  http::Options o;
  o.ca_file = endpoint_.ca_file;
  o.ca_file_only = endpoint_.ca_file_only;
  o.max_attempts = endpoint_.max_attempts;
  o.retryable = [](const http::Response& r) { return Retryable(Response(r)); };
  o.sigv4 = http::Sigv4{"aws:amz:" + endpoint_.region + ":s3", endpoint_.access_key, endpoint_.secret_key};
  o.path_as_is = true;  // keys may hold "./" or "//": sent, and signed, as they are
  http_ = std::make_unique<http::Client>(std::move(o));
}

Client::~Client() = default;

namespace {

std::string UrlFor(const Endpoint& ep, const Request& r) {
  std::string base = ep.url;
  std::string path = "/";
  if (!r.bucket.empty()) {
    if (ep.path_style) {
      path += r.bucket;
      if (!r.key.empty()) path += "/" + UriEncode(r.key, true);
    } else {
      auto scheme_end = base.find("://");
      std::size_t host = scheme_end == std::string::npos ? 0 : scheme_end + 3;
      base.insert(host, r.bucket + ".");
      path += UriEncode(r.key, true);
    }
  }
  auto query = r.query;
  std::sort(query.begin(), query.end());
  std::string q;
  for (const auto& [k, v] : query) q += (q.empty() ? "?" : "&") + UriEncode(k, false) + "=" + UriEncode(v, false);
  return base + path + q;
}

http::Request Prepare(const Endpoint& ep, const Request& r) {
  http::Request out;
  out.method = r.method;
  out.url = UrlFor(ep, r);
  out.body = r.body;
  bool has_type = false;
  for (const std::string& header : r.headers) {
    out.headers.push_back(header);
    if (header.size() > 13 && strncasecmp(header.c_str(), "content-type:", 13) == 0) has_type = true;
  }
  const std::string& payload = r.body ? Sha256Hex(*r.body) : EmptySha256();
  out.headers.push_back("x-amz-content-sha256: " + payload);
  if (!ep.session_token.empty()) out.headers.push_back("X-Amz-Security-Token: " + ep.session_token);
  // No "Expect:" to turn off 100-continue: libcurl 7.88 would sign that empty header, which it
  // then does not send, and every signature would fail.
  if ((r.method == "PUT" || r.method == "POST") && !has_type)
    out.headers.push_back("Content-Type: application/octet-stream");
  return out;
}

}  // namespace

Response Client::Do(const Request& request) { return std::move(Run({request}, 1)[0]); }

std::vector<Response> Client::Run(const std::vector<Request>& requests, int parallel, const Progress& progress) {
  std::vector<http::Request> sent;
  sent.reserve(requests.size());
  for (const Request& r : requests) sent.push_back(Prepare(endpoint_, r));
  std::vector<Response> out(requests.size());
  http::Progress each;
  each.done = [&](std::size_t i, const http::Response& r) {
    out[i] = Response(r);
    if (!out[i].transport_error.empty()) out[i].transport_error += " (" + sent[i].url + ")";
    if (progress.done) progress.done(i, out[i]);
  };
  http_->Run(sent, parallel, each);
  return out;
}

}  // namespace reconcile::s3
