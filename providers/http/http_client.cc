#include "providers/http/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <deque>
#include <random>
#include <thread>

#include "providers/http/libcurl.h"

namespace reconcile::http {

namespace {

using Clock = std::chrono::steady_clock;

bool DefaultRetryable(const Response& r) {
  if (r.bad_url) return false;
  if (!r.transport_error.empty()) return true;  // timeouts, refused or reset connections
  return r.status == 429 || (r.status >= 500 && r.status <= 599);
}

std::chrono::milliseconds Backoff(int attempt) {
  // 100 ms, 200, 400 … capped at 5 s, each with ±50% jitter so parallel retries spread out.
  static thread_local std::mt19937 rng{std::random_device{}()};
  long base = std::min(5000L, 100L << std::min(attempt - 1, 6));
  std::uniform_int_distribution<long> jitter(base / 2, base + base / 2);
  return std::chrono::milliseconds(jitter(rng));
}

// One request in flight: its easy handle (kept for reuse), lists and answer.
struct Slot {
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  curl_slist* resolve = nullptr;
  std::size_t index = 0;
  std::size_t max_body = 0;
  char error[CURL_ERROR_SIZE] = {0};
  Response response;
};

size_t WriteBody(char* data, size_t size, size_t n, void* user) {
  auto* slot = static_cast<Slot*>(user);
  std::string& body = slot->response.body;
  std::size_t room =
      slot->max_body == 0 ? size * n : std::min(size * n, slot->max_body - std::min(slot->max_body, body.size()));
  body.append(data, room);
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
    static_cast<Slot*>(user)->response.headers[name] = b == std::string::npos ? "" : value.substr(b, e - b + 1);
  }
  return size * n;
}

void Prepare(const Options& o, const Request& r, Slot* slot) {
  CURL* e = slot->easy;
  slot->max_body = o.max_body;
  curl_easy_setopt(e, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!o.ca_file.empty()) {
    curl_easy_setopt(e, CURLOPT_CAINFO, o.ca_file.c_str());
    // Besides the system's, unless told to trust the file alone: curl reads both.
    if (!o.ca_file_only) curl_easy_setopt(e, CURLOPT_CAPATH, "/etc/ssl/certs");
  }
  if (o.path_as_is) curl_easy_setopt(e, CURLOPT_PATH_AS_IS, 1L);
  if (o.sigv4) {
    curl_easy_setopt(e, CURLOPT_AWS_SIGV4, o.sigv4->scope.c_str());
    curl_easy_setopt(e, CURLOPT_USERNAME, o.sigv4->access_key.c_str());
    curl_easy_setopt(e, CURLOPT_PASSWORD, o.sigv4->secret_key.c_str());
  }
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
  if (o.timeout.count() > 0) curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(o.timeout.count()));
  if (o.stall_seconds > 0) {
    // A stalled transfer is a timeout (and retried); a slow big one is not cut off.
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, o.stall_seconds);
  }
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_USERAGENT, o.user_agent.c_str());
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, slot->error);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, slot);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, slot);
  for (const std::string& entry : o.resolve) slot->resolve = curl_slist_append(slot->resolve, entry.c_str());
  if (slot->resolve) curl_easy_setopt(e, CURLOPT_RESOLVE, slot->resolve);

  curl_slist* h = nullptr;
  for (const std::string& header : r.headers) h = curl_slist_append(h, header.c_str());
  if (r.method == "HEAD") {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (r.method == "PUT" || r.method == "POST") {
    static const std::string none;
    const std::string& body = r.body ? *r.body : none;
    curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
    curl_easy_setopt(e, CURLOPT_POSTFIELDS, body.data());
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  } else {
    if (r.body) {
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body->size()));
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, r.body->data());
    }
    if (r.method != "GET" || r.body) curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  }
  if (h) curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
  slot->headers = h;
}

// Why no answer came. For a refusal libcurl (7.88, Debian 12) says only "Failed to connect to
// 127.0.0.1 port 1 after 0 ms: Couldn't connect to server"; an operator wants "connection
// refused".
std::string NoAnswer(CURL* e, CURLcode rc, const char* error) {
  long os_errno = 0;
  curl_easy_getinfo(e, CURLINFO_OS_ERRNO, &os_errno);
  if (rc == CURLE_COULDNT_CONNECT && os_errno == ECONNREFUSED) return "connection refused";
  return error[0] ? error : curl_easy_strerror(rc);
}

}  // namespace

std::string Response::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

struct Client::Multi {
  CURLM* multi = nullptr;
  std::vector<CURL*> idle;  // easy handles kept between requests: their TLS sessions too

  Multi() {
    multi = curl_multi_init();
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

// libcurl is opened by the first request, not by the client: a provider that may speak HTTP
// makes one whether or not this run does.
Client::Client(Options options) : options_(std::move(options)) {}

Client::~Client() = default;

Response Client::Do(const Request& request) { return std::move(Run({request}, 1)[0]); }

std::vector<Response> Client::Run(const std::vector<Request>& requests, int parallel, const Progress& progress) {
  std::vector<Response> out(requests.size());
  if (Status loaded = LoadCurl(); !loaded) {
    for (std::size_t i = 0; i < out.size(); ++i) {
      out[i].transport_error = loaded.message();
      out[i].not_sent = true;
      if (progress.done) progress.done(i, out[i]);
    }
    return out;
  }
  if (!multi_) multi_ = std::make_unique<Multi>();
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
  const auto& retryable = options_.retryable ? options_.retryable : DefaultRetryable;

  while (!queue.empty() || !active.empty()) {
    if (options_.abandon && options_.abandon()) {
      for (auto& slot : active) {
        curl_multi_remove_handle(m, slot->easy);
        curl_slist_free_all(slot->headers);
        curl_slist_free_all(slot->resolve);
        multi_->idle.push_back(slot->easy);
        out[slot->index].transport_error = "abandoned";
      }
      for (const Queued& q : queue) out[q.index].transport_error = "abandoned";
      break;
    }
    auto now = Clock::now();
    for (auto it = queue.begin(); it != queue.end() && static_cast<int>(active.size()) < parallel;) {
      if (it->not_before > now) {
        ++it;
        continue;
      }
      auto slot = std::make_unique<Slot>();
      slot->easy = multi_->Take();
      slot->index = it->index;
      attempts[it->index] = it->attempt;
      Prepare(options_, requests[it->index], slot.get());
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
      CURLcode rc = msg->data.result;
      if (rc != CURLE_OK) {
        r.bad_url = rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL;
        r.transport_error = NoAnswer(msg->easy_handle, rc, slot->error);
      } else {
        curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &r.status);
      }
      curl_multi_remove_handle(m, slot->easy);
      curl_slist_free_all(slot->headers);
      curl_slist_free_all(slot->resolve);
      multi_->idle.push_back(slot->easy);
      int attempt = attempts[slot->index];
      r.attempts = attempt;
      if (!r.ok() && attempt < options_.max_attempts && retryable(r)) {
        queue.push_back({slot->index, attempt + 1, Clock::now() + Backoff(attempt)});
      } else {
        out[slot->index] = std::move(r);
        if (progress.done) progress.done(slot->index, out[slot->index]);
      }
      active.erase(std::find_if(active.begin(), active.end(), [&](const auto& s) { return s.get() == slot; }));
    }
    if (active.empty() && !queue.empty()) {
      auto next = std::min_element(queue.begin(), queue.end(),
                                   [](const Queued& a, const Queued& b) { return a.not_before < b.not_before; });
      std::this_thread::sleep_until(next->not_before);
      continue;
    }
    if (!active.empty()) curl_multi_poll(m, nullptr, 0, 50, nullptr);
  }
  return out;
}

std::pair<std::string, std::string> HostAndPort(const std::string& url) {
  if (!LoadCurl()) return {};  // a request to the URL will say why
  std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> u(curl_url(), curl_url_cleanup);
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK) return {};
  char* host = nullptr;
  char* port = nullptr;
  std::pair<std::string, std::string> out;
  if (curl_url_get(u.get(), CURLUPART_HOST, &host, 0) == CURLUE_OK && host) out.first = host;
  if (curl_url_get(u.get(), CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK && port) out.second = port;
  curl_free(host);
  curl_free(port);
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

}  // namespace reconcile::http
