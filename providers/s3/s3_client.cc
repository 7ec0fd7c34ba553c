#include "providers/s3/s3_client.h"

#include <curl/curl.h>
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

void EnsureCurlGlobal() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

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

std::chrono::milliseconds Backoff(int attempt) {
  // 100 ms, 200, 400 … capped at 5 s, each with ±50% jitter so parallel retries spread out.
  static thread_local std::mt19937 rng{std::random_device{}()};
  long base = std::min(5000L, 100L << std::min(attempt - 1, 6));
  std::uniform_int_distribution<long> jitter(base / 2, base + base / 2);
  return std::chrono::milliseconds(jitter(rng));
}

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  static_cast<Response*>(user)->body.append(data, size * n);
  return size * n;
}

size_t WriteHeader(char* data, size_t size, size_t n, void* user) {
  std::string line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string::npos) {
    std::string name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
    std::string value = line.substr(colon + 1);
    auto b = value.find_first_not_of(" \t");
    auto e = value.find_last_not_of(" \t\r\n");
    static_cast<Response*>(user)->headers[name] = b == std::string::npos ? "" : value.substr(b, e - b + 1);
  }
  return size * n;
}

}  // namespace

std::string Sha256Hex(const std::string& data) { return DigestHex(EVP_sha256(), data); }
std::string Md5Hex(const std::string& data) { return DigestHex(EVP_md5(), data); }

std::string Md5Base64(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), md, &n, EVP_md5(), nullptr);
  unsigned char out[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
  int len = EVP_EncodeBlock(out, md, static_cast<int>(n));
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string UriDecode(const std::string& s, bool plus_is_space) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    // A hand-edited journal or a sloppy server must not crash the reader: a '%' not followed
    // by two hex digits stays as it is.
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::strtol(s.substr(i + 1, 2).c_str(), nullptr, 16));
      i += 2;
    } else {
      out += plus_is_space && s[i] == '+' ? ' ' : s[i];
    }
  }
  return out;
}

std::string UriEncode(const std::string& s, bool keep_slash) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string Response::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
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

// One request in flight: its easy handle (kept for reuse), headers and answer.
struct Slot {
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::size_t index = 0;
  Response response;
};

struct Client::Multi {
  CURLM* multi = nullptr;
  std::vector<CURL*> idle;  // easy handles kept between requests: their TLS sessions too

  Multi() {
    multi = curl_multi_init();
    // One connection per host per transfer at most; a pool for all of them.
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 64L);
  }
  ~Multi() {
    for (CURL* e : idle) curl_easy_cleanup(e);
    curl_multi_cleanup(multi);
  }
  CURL* Take() {
    if (idle.empty()) return curl_easy_init();
    CURL* e = idle.back();
    idle.pop_back();
    curl_easy_reset(e);
    return e;
  }
};

Client::Client(Endpoint endpoint) : endpoint_(std::move(endpoint)) {
  EnsureCurlGlobal();
  multi_ = std::make_unique<Multi>();
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

void Prepare(const Endpoint& ep, const Request& r, Slot* slot) {
  CURL* e = slot->easy;
  std::string url = UrlFor(ep, r);
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);  // keys may hold "./" or "//": sent, and signed, as they are
  std::string sigv4 = "aws:amz:" + ep.region + ":s3";
  curl_easy_setopt(e, CURLOPT_AWS_SIGV4, sigv4.c_str());
  curl_easy_setopt(e, CURLOPT_USERNAME, ep.access_key.c_str());
  curl_easy_setopt(e, CURLOPT_PASSWORD, ep.secret_key.c_str());
  if (!ep.ca_file.empty()) curl_easy_setopt(e, CURLOPT_CAINFO, ep.ca_file.c_str());
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 10L);
  // A stalled transfer (under 1 byte/s for a minute) is a timeout, and retried; a slow big
  // one is not cut off.
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, &slot->response);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, &slot->response);

  curl_slist* h = nullptr;
  bool has_type = false;
  for (const std::string& header : r.headers) {
    h = curl_slist_append(h, header.c_str());
    if (header.size() > 13 && strncasecmp(header.c_str(), "content-type:", 13) == 0) has_type = true;
  }
  const std::string& payload = r.body ? Sha256Hex(*r.body) : EmptySha256();
  h = curl_slist_append(h, ("x-amz-content-sha256: " + payload).c_str());
  // No "Expect:" to turn off 100-continue: libcurl 7.88 would sign that empty header, which it
  // then does not send, and every signature would fail.
  if (r.method == "HEAD") {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (r.method == "PUT" || r.method == "POST") {
    // Always a body, if empty: S3 wants a Content-Length on every PUT.
    static const std::string none;
    const std::string& body = r.body ? *r.body : none;
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
    if (!has_type) h = curl_slist_append(h, "Content-Type: application/octet-stream");
  } else if (r.method != "GET") {
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
  slot->headers = h;
}

}  // namespace

Response Client::Do(const Request& request) {
  return std::move(Run({request}, 1)[0]);
}

std::vector<Response> Client::Run(const std::vector<Request>& requests, int parallel, const Progress& progress) {
  std::vector<Response> out(requests.size());
  struct Queued {
    std::size_t index;
    int attempt;
    Clock::time_point not_before;
  };
  std::deque<Queued> queue;
  for (std::size_t i = 0; i < requests.size(); ++i) queue.push_back({i, 1, Clock::time_point{}});
  std::vector<int> attempts(requests.size(), 0);
  std::vector<std::unique_ptr<Slot>> active;
  CURLM* m = multi_->multi;
  parallel = std::max(1, parallel);

  while (!queue.empty() || !active.empty()) {
    auto now = Clock::now();
    // Start what is due, up to the bound.
    for (auto it = queue.begin(); it != queue.end() && static_cast<int>(active.size()) < parallel;) {
      if (it->not_before > now) {
        ++it;
        continue;
      }
      auto slot = std::make_unique<Slot>();
      slot->easy = multi_->Take();
      slot->index = it->index;
      attempts[it->index] = it->attempt;
      Prepare(endpoint_, requests[it->index], slot.get());
      curl_easy_setopt(slot->easy, CURLOPT_PRIVATE, slot.get());
      curl_multi_add_handle(m, slot->easy);
      active.push_back(std::move(slot));
      it = queue.erase(it);
    }
    int running = 0;
    curl_multi_perform(m, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(m, &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      Slot* slot = nullptr;
      curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&slot));
      Response& r = slot->response;
      if (msg->data.result != CURLE_OK) {
        r.transport_error = std::string(curl_easy_strerror(msg->data.result)) + " (" +
                            UrlFor(endpoint_, requests[slot->index]) + ")";
      } else {
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &r.status);
      }
      curl_multi_remove_handle(m, slot->easy);
      curl_slist_free_all(slot->headers);
      multi_->idle.push_back(slot->easy);
      int attempt = attempts[slot->index];
      r.attempts = attempt;
      if (!r.ok() && Retryable(r) && attempt < endpoint_.max_attempts) {
        queue.push_back({slot->index, attempt + 1, Clock::now() + Backoff(attempt)});
      } else {
        out[slot->index] = std::move(r);
        if (progress.done) progress.done(slot->index, out[slot->index]);
      }
      active.erase(std::find_if(active.begin(), active.end(), [&](const auto& s) { return s.get() == slot; }));
    }
    if (active.empty() && !queue.empty()) {
      // Only retries waiting for their time.
      auto next = std::min_element(queue.begin(), queue.end(),
                                   [](const Queued& a, const Queued& b) { return a.not_before < b.not_before; });
      std::this_thread::sleep_until(next->not_before);
      continue;
    }
    if (!active.empty()) curl_multi_poll(m, nullptr, 0, 50, nullptr);
  }
  return out;
}

}  // namespace reconcile::s3
