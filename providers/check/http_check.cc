#include "providers/check/http_check.h"
#include "providers/http/http_client.h"
#include "providers/http/libcurl.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <memory>

namespace reconcile {

namespace {

bool Digits(const std::string& s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; }

bool HostName(const std::string& s) {
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.front() == '-') return false;
  return s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") == std::string::npos;
}

// An IPv4 address, or an IPv6 one in brackets (as curl reads it after the port).
bool Address(const std::string& s) {
  unsigned char buf[16];
  if (s.size() > 2 && s.front() == '[' && s.back() == ']')
    return inet_pton(AF_INET6, s.substr(1, s.size() - 2).c_str(), buf) == 1;
  return inet_pton(AF_INET, s.c_str(), buf) == 1;
}

void Lower(std::string* s) {
  for (char& c : *s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
}

// The host and port a URL asks for ("" when it does not parse, which the request reports).
std::pair<std::string, std::string> HostAndPort(const std::string& url) {
  auto out = http::HostAndPort(url);
  Lower(&out.first);
  return out;
}

// RFC 9110's token: the characters a header's name may hold.
bool Token(const std::string& s) {
  return !s.empty() && s.find_first_not_of(
                           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                           "!#$%&'*+-.^_`|~") == std::string::npos;
}

bool EnvName(const std::string& s) {
  return !s.empty() && !(s[0] >= '0' && s[0] <= '9') &&
         s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == std::string::npos;
}

// What may follow "Name:": visible text, spaces and tabs; a line break would start a header
// (or a body) the spec never wrote.
std::string ValueProblem(const std::string& v) {
  for (char ch : v) {
    auto c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\t') || c == 0x7f) return "holds a control character (a line break)";
  }
  return "";
}

void SplitHeader(const std::string& h, std::string* name, std::string* value) {
  std::size_t colon = h.find(':');
  *name = h.substr(0, colon);
  *value = colon == std::string::npos ? "" : h.substr(colon + 1);
  std::size_t start = value->find_first_not_of(" \t");
  std::size_t end = value->find_last_not_of(" \t");
  *value = start == std::string::npos ? "" : value->substr(start, end - start + 1);
}

}  // namespace

std::string CheckResolve(const std::string& value, const AttrMap& resource) {
  const char* form =
      "; write \"NAME:PORT:ADDRESS\", such as \"shop.example.com:443:192.0.2.10\" (an IPv6 address in "
      "brackets, several separated by commas)";
  std::size_t first = value.find(':');
  std::size_t second = first == std::string::npos ? first : value.find(':', first + 1);
  if (second == std::string::npos) return "is not NAME:PORT:ADDRESS" + std::string(form);
  std::string name = value.substr(0, first), port = value.substr(first + 1, second - first - 1);
  std::string addresses = value.substr(second + 1);
  if (!HostName(name)) return "names \"" + name + "\", which is not a host name" + form;
  if (!Digits(port) || port.size() > 5 || std::atoi(port.c_str()) < 1 || std::atoi(port.c_str()) > 65535)
    return "has the port \"" + port + "\", which is not 1 to 65535" + form;
  std::size_t at = 0;
  while (true) {
    std::size_t comma = addresses.find(',', at);
    std::string a = addresses.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    if (!Address(a)) return "has the address \"" + a + "\", which is not an IP address" + form;
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  // An entry for another name or port than the URL's is never used: the check would go
  // wherever DNS says, which is what it exists to avoid.
  auto url = resource.find("url");
  const std::string* text = url == resource.end() ? nullptr : AsString(url->second);
  if (text && text->find("${") == std::string::npos) {
    auto [host, url_port] = HostAndPort(*text);
    Lower(&name);
    if (!host.empty() && (host != name || url_port != port))
      return "is for " + name + ":" + port + ", but the url asks for " + host + ":" + url_port +
             ", so curl would never use it; name the url's host and port";
  }
  return "";
}

std::string CheckHeader(const std::string& value, const AttrMap&) {
  const char* form = "; write \"Name: value\", such as \"Host: shop.example.com\" or \"X-Token: env:SHOP_TOKEN\"";
  if (value.find(':') == std::string::npos) return "has no ':' between a name and a value" + std::string(form);
  std::string name, v;
  SplitHeader(value, &name, &v);
  if (!Token(name)) return "has the name \"" + name + "\", which is not a header name" + form;
  if (std::string why = ValueProblem(v); !why.empty()) return why + form;
  if (v.empty()) return "has no value" + std::string(form);
  if (v.rfind("env:", 0) == 0 && !EnvName(v.substr(4)))
    return "reads \"" + v.substr(4) + "\", which is not an environment variable's name" + form;
  if (v.rfind("file:", 0) == 0)
    return "has a file: value; a header's secret comes from the environment only: export it and write env:NAME";
  return "";
}

std::string CheckUrl(const std::string& value, const AttrMap&) {
  // libcurl speaks ftp, file, smtp and more: such a url would be polled until the check timed
  // out, mid-cutover. One without a scheme is curl's http, as it always was.
  if (auto colon = value.find("://"); colon != std::string::npos) {
    std::string scheme = value.substr(0, colon);
    std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
    if (scheme != "http" && scheme != "https")
      return "asks for " + value.substr(0, colon + 3) + "; an http check requests http:// or https:// only";
  }
  Status loaded = http::LoadCurl();
  return loaded ? "" : "cannot be requested: " + loaded.message();
}

Result<CheckResult> CheckHttp(const AttrMap& attrs) {
  auto get = [&](const char* key) -> const Value* {
    auto it = attrs.find(key);
    return it == attrs.end() ? nullptr : &it->second;
  };
  const std::string url = std::get<std::string>(*get("url"));
  const long expect = static_cast<long>(std::get<std::int64_t>(attrs.at("expect_status")));
  http::Options o;
  // A CA of the team's own (a staging or internal CA) is trusted besides the system's.
  if (const Value* v = get("ca_file")) o.ca_file = std::get<std::string>(*v);
  o.connect_timeout = std::chrono::milliseconds(5000);
  o.timeout = std::chrono::milliseconds(10000);
  o.stall_seconds = 0;
  o.max_body = 1u << 20;  // enough to look for body_contains; a huge page is not kept whole
  o.user_agent = "reconcile-check/1";
  if (const Value* v = get("resolve")) {
    const std::string& entry = std::get<std::string>(*v);
    if (std::string why = CheckResolve(entry, attrs); !why.empty()) return Error{"resolve \"" + entry + "\" " + why};
    o.resolve.push_back(entry);
  }
  http::Request request;
  request.url = url;
  if (const Value* v = get("headers")) {
    for (const std::string& h : std::get<StringList>(*v)) {
      if (std::string why = CheckHeader(h, attrs); !why.empty()) return Error{"the header \"" + h + "\" " + why};
      std::string name, value;
      SplitHeader(h, &name, &value);
      if (value.rfind("env:", 0) == 0) {
        // Read now, sent once, never shown: errors name the variable, not its value.
        const char* secret = std::getenv(value.substr(4).c_str());
        if (!secret || !*secret)
          return Error{"the header " + name + " reads the environment variable " + value.substr(4) +
                       ", which is not set (export it)"};
        if (!ValueProblem(secret).empty())
          return Error{"the environment variable " + value.substr(4) + " (header " + name +
                       ") holds a line break or another control character"};
        value = secret;
      }
      request.headers.push_back(name + ": " + value);
    }
  }
  http::Client client(std::move(o));
  http::Response r = client.Do(request);
  if (r.bad_url) return Error{"the url \"" + url + "\" cannot be requested: " + r.transport_error};
  if (!r.transport_error.empty()) return CheckResult{false, r.transport_error + ": " + url};
  if (r.status != expect)
    return CheckResult{
        false, "HTTP " + std::to_string(r.status) + " from " + url + " (wanted " + std::to_string(expect) + ")"};
  if (const Value* want = get("body_contains")) {
    const std::string& text = std::get<std::string>(*want);
    if (r.body.find(text) == std::string::npos)
      return CheckResult{false,
                         "HTTP " + std::to_string(r.status) + " from " + url + ", but the body lacks \"" + text + "\""};
  }
  return CheckResult{true, "HTTP " + std::to_string(r.status) + " from " + url};
}

}  // namespace reconcile
