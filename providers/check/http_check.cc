#include "providers/check/http_check.h"

#include <curl/curl.h>

#include <cerrno>
#include <memory>
#include <mutex>

namespace reconcile {

namespace {

std::size_t Collect(char* data, std::size_t size, std::size_t n, void* out) {
  auto* body = static_cast<std::string*>(out);
  // Enough to look for body_contains; a huge page is not kept whole.
  if (body->size() < (1u << 20)) body->append(data, size * n);
  return size * n;
}

// Why no answer came. For a refusal libcurl (7.88, Debian 12) says only "Failed to connect
// to 127.0.0.1 port 1 after 0 ms: Couldn't connect to server"; the operator waiting on a
// switch-over wants to read "connection refused".
std::string NoAnswer(CURL* curl, CURLcode rc, const char* error) {
  long os_errno = 0;
  curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
  if (rc == CURLE_COULDNT_CONNECT && os_errno == ECONNREFUSED) return "connection refused";
  return error[0] ? error : curl_easy_strerror(rc);
}

}  // namespace

Result<CheckResult> CheckHttp(const AttrMap& attrs) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  auto get = [&](const char* key) -> const Value* {
    auto it = attrs.find(key);
    return it == attrs.end() ? nullptr : &it->second;
  };
  const std::string url = std::get<std::string>(*get("url"));
  long expect = 200;
  if (const Value* v = get("expect_status")) expect = static_cast<long>(std::get<std::int64_t>(*v));
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return Error{"cannot start libcurl"};
  std::string body;
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_SSL_VERIFYHOST, 2L);
  // A CA of the team's own (a staging or internal CA) trusted besides the system's: curl reads
  // CAINFO and the system's CAPATH both.
  if (const Value* v = get("ca_file")) {
    curl_easy_setopt(curl.get(), CURLOPT_CAINFO, std::get<std::string>(*v).c_str());
    curl_easy_setopt(curl.get(), CURLOPT_CAPATH, "/etc/ssl/certs");
  }
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(curl.get(), CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(curl.get(), CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, "reconcile-check/1");
  curl_easy_setopt(curl.get(), CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, error);
  CURLcode rc = curl_easy_perform(curl.get());
  if (rc == CURLE_URL_MALFORMAT || rc == CURLE_UNSUPPORTED_PROTOCOL)
    return Error{"the url \"" + url + "\" cannot be requested: " + (error[0] ? error : curl_easy_strerror(rc))};
  if (rc != CURLE_OK) return CheckResult{false, NoAnswer(curl.get(), rc, error) + ": " + url};
  long status = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &status);
  if (status != expect)
    return CheckResult{false, "HTTP " + std::to_string(status) + " from " + url + " (wanted " + std::to_string(expect) + ")"};
  if (const Value* want = get("body_contains")) {
    const std::string& text = std::get<std::string>(*want);
    if (body.find(text) == std::string::npos)
      return CheckResult{false, "HTTP " + std::to_string(status) + " from " + url + ", but the body lacks \"" + text + "\""};
  }
  return CheckResult{true, "HTTP " + std::to_string(status) + " from " + url};
}

}  // namespace reconcile
