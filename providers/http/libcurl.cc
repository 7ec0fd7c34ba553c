// libcurl's functions that reconcile calls, defined here as stubs that forward to the library
// opened at first use. A function of libcurl's that is called without a stub here is a link
// error, not a silent early load.
#include "providers/http/libcurl.h"

#include <curl/curl.h>

#include <cstdarg>

#include "engine/dynamic_library.h"

namespace reconcile::http {

namespace {

// Every function the stubs below forward to, checked when the library is opened.
constexpr const char* kNames[] = {"curl_global_init",
                                  "curl_easy_init",
                                  "curl_easy_cleanup",
                                  "curl_easy_reset",
                                  "curl_easy_setopt",
                                  "curl_easy_getinfo",
                                  "curl_easy_strerror",
                                  "curl_free",
                                  "curl_multi_init",
                                  "curl_multi_cleanup",
                                  "curl_multi_setopt",
                                  "curl_multi_add_handle",
                                  "curl_multi_remove_handle",
                                  "curl_multi_perform",
                                  "curl_multi_poll",
                                  "curl_multi_info_read",
                                  "curl_slist_append",
                                  "curl_slist_free_all",
                                  "curl_url",
                                  "curl_url_cleanup",
                                  "curl_url_get",
                                  "curl_url_set"};

DynamicLibrary& Library() {
  static DynamicLibrary lib(RECONCILE_LIBCURL_SONAME, RECONCILE_LIBCURL_INSTALL, "HTTP (checks, S3, AWS, webhooks)",
                            kNames);
  return lib;
}

// An option's number says the type of its one argument (curl.h's CURLOPTTYPE_*), which is how
// libcurl itself reads it. A function pointer passes as a pointer: the same register either way
// on the ABIs Debian builds for.
template <class Code, class Handle, class Option>
Code ForwardOption(Code (*real)(Handle, Option, ...), Handle handle, Option option, va_list ap) {
  if (option < CURLOPTTYPE_OBJECTPOINT) return real(handle, option, va_arg(ap, long));
  if (option >= CURLOPTTYPE_OFF_T && option < CURLOPTTYPE_BLOB) return real(handle, option, va_arg(ap, curl_off_t));
  return real(handle, option, va_arg(ap, void*));
}

}  // namespace

Status LoadCurl() {
  static Status loaded = [] {
    Status s = Library().Load();
    if (s) {
      if (CURLcode rc = curl_global_init(CURL_GLOBAL_DEFAULT); rc != CURLE_OK)
        return Status(Error{std::string("libcurl would not start: curl_global_init gave ") + std::to_string(rc),
                            ErrorCode::kNotSupported});
    }
    return s;
  }();
  return loaded;
}

}  // namespace reconcile::http

#define RECONCILE_CURL(name) static const auto real = ::reconcile::Forward(::reconcile::http::Library(), #name, &name)

// curl.h's function-like macros (curl_easy_setopt and the like) are kept off these definitions
// by the parentheses around each name.
extern "C" {

CURLcode(curl_global_init)(long flags) {
  RECONCILE_CURL(curl_global_init);
  return real(flags);
}

CURL*(curl_easy_init)(void) {
  RECONCILE_CURL(curl_easy_init);
  return real();
}

void(curl_easy_cleanup)(CURL* curl) {
  RECONCILE_CURL(curl_easy_cleanup);
  real(curl);
}

void(curl_easy_reset)(CURL* curl) {
  RECONCILE_CURL(curl_easy_reset);
  real(curl);
}

CURLcode(curl_easy_setopt)(CURL* curl, CURLoption option, ...) {
  RECONCILE_CURL(curl_easy_setopt);
  va_list ap;
  va_start(ap, option);
  CURLcode rc = ::reconcile::http::ForwardOption(real, curl, option, ap);
  va_end(ap);
  return rc;
}

CURLcode(curl_easy_getinfo)(CURL* curl, CURLINFO info, ...) {
  RECONCILE_CURL(curl_easy_getinfo);
  va_list ap;
  va_start(ap, info);
  CURLcode rc = real(curl, info, va_arg(ap, void*));  // always a pointer to where the answer goes
  va_end(ap);
  return rc;
}

const char*(curl_easy_strerror)(CURLcode code) {
  RECONCILE_CURL(curl_easy_strerror);
  return real(code);
}

void(curl_free)(void* p) {
  RECONCILE_CURL(curl_free);
  real(p);
}

CURLM*(curl_multi_init)(void) {
  RECONCILE_CURL(curl_multi_init);
  return real();
}

CURLMcode(curl_multi_cleanup)(CURLM* multi) {
  RECONCILE_CURL(curl_multi_cleanup);
  return real(multi);
}

CURLMcode(curl_multi_setopt)(CURLM* multi, CURLMoption option, ...) {
  RECONCILE_CURL(curl_multi_setopt);
  va_list ap;
  va_start(ap, option);
  CURLMcode rc = ::reconcile::http::ForwardOption(real, multi, option, ap);
  va_end(ap);
  return rc;
}

CURLMcode(curl_multi_add_handle)(CURLM* multi, CURL* curl) {
  RECONCILE_CURL(curl_multi_add_handle);
  return real(multi, curl);
}

CURLMcode(curl_multi_remove_handle)(CURLM* multi, CURL* curl) {
  RECONCILE_CURL(curl_multi_remove_handle);
  return real(multi, curl);
}

CURLMcode(curl_multi_perform)(CURLM* multi, int* running) {
  RECONCILE_CURL(curl_multi_perform);
  return real(multi, running);
}

CURLMcode(curl_multi_poll)(CURLM* multi, struct curl_waitfd extra_fds[], unsigned int extra_nfds, int timeout_ms,
                           int* ret) {
  RECONCILE_CURL(curl_multi_poll);
  return real(multi, extra_fds, extra_nfds, timeout_ms, ret);
}

CURLMsg*(curl_multi_info_read)(CURLM* multi, int* left) {
  RECONCILE_CURL(curl_multi_info_read);
  return real(multi, left);
}

struct curl_slist*(curl_slist_append)(struct curl_slist* list, const char* data) {
  RECONCILE_CURL(curl_slist_append);
  return real(list, data);
}

void(curl_slist_free_all)(struct curl_slist* list) {
  RECONCILE_CURL(curl_slist_free_all);
  real(list);
}

CURLU*(curl_url)(void) {
  RECONCILE_CURL(curl_url);
  return real();
}

void(curl_url_cleanup)(CURLU* handle) {
  RECONCILE_CURL(curl_url_cleanup);
  real(handle);
}

CURLUcode(curl_url_get)(CURLU* handle, CURLUPart what, char** part, unsigned int flags) {
  RECONCILE_CURL(curl_url_get);
  return real(handle, what, part, flags);
}

CURLUcode(curl_url_set)(CURLU* handle, CURLUPart what, const char* part, unsigned int flags) {
  RECONCILE_CURL(curl_url_set);
  return real(handle, what, part, flags);
}

}  // extern "C"
