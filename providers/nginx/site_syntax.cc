#include "providers/nginx/site_syntax.h"

#include <algorithm>
#include <cctype>
#include <vector>

namespace reconcile::nginx {

namespace {

const char* kServerName =
    "a server name is a host name (\"www.example.com\"), a wildcard (\"*.example.com\", \".example.com\", "
    "\"www.example.*\") or \"_\"";
const char* kListen =
    "listen is a port (\"80\"), address:port (\"127.0.0.1:8080\", \"[::]:443\", \"*:80\") or unix:/path, then flags "
    "separated by spaces: ssl, http2, quic, default_server, reuseport, proxy_protocol, deferred, bind, "
    "ipv6only=on|off, backlog=N, rcvbuf=SIZE, sndbuf=SIZE, fastopen=N, so_keepalive=on|off|IDLE:INTVL:CNT";
const char* kProxyPass =
    "proxy_pass is http:// or https:// then a host, an optional :port and an optional /path "
    "(\"http://127.0.0.1:8000\", \"https://old.example.com/app/\"), or http://unix:/path/to.sock:";
const char* kPath = "it must be an absolute path of letters, digits and . _ - / @ + , = : % ~ (no spaces)";
const char* kSize = "a size is a number of bytes, optionally with k, m or g (\"8k\", \"50m\", \"1g\")";

bool Alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool Digits(const std::string& s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; }

// The first character of s that nginx would read as syntax of its own, said as an operator
// should hear it; "" when there is none.
std::string Syntax(const std::string& s) {
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if (c == '\n' || c == '\r') return "holds a line break, after which nginx would read directives";
    if (c == ' ' || c == '\t') return "holds a space, after which nginx would read another parameter";
    if (c < 0x20 || c == 0x7f) return "holds a control character";
    if (c == ';') return "holds ';', which ends an nginx directive";
    if (c == '{') return "holds '{', which opens an nginx block";
    if (c == '}') return "holds '}', which closes an nginx block";
    if (c == '#') return "holds '#', which starts an nginx comment";
    if (c == '"' || c == '\'') return "holds a quote, which starts an nginx string";
    if (c == '\\') return "holds a backslash, an nginx escape";
    if (c == '$') return "holds '$', which nginx reads as a variable";
    if (c >= 0x80) return "holds a non-ASCII character (write international names as xn--…)";
  }
  return "";
}

std::string Refuse(const std::string& why, const char* allowed) { return why + "; " + allowed; }

// Letters, digits, '-' and '_' in dot-separated labels: "www.example.com", "127.0.0.1".
bool HostName(const std::string& s) {
  if (s.empty() || s.size() > 253 || s.front() == '.' || s.back() == '.') return false;
  std::size_t label = 0;
  for (char c : s) {
    if (c == '.') {
      if (label == 0) return false;
      label = 0;
    } else if (Alnum(c) || c == '-' || c == '_') {
      if (++label > 63) return false;
    } else {
      return false;
    }
  }
  return true;
}

bool Port(const std::string& s) { return Digits(s) && s.size() <= 5 && std::stoi(s) >= 1 && std::stoi(s) <= 65535; }

bool PathChars(const std::string& s) {
  return s.size() > 1 && s[0] == '/' &&
         s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._/@+,=:%~-") ==
             std::string::npos;
}

// "[::1]" or "[::1]:443" from `s` at 0: the bracketed part's end, or npos.
bool Ipv6Host(const std::string& s, std::size_t* end) {
  if (s.empty() || s[0] != '[') return false;
  std::size_t close = s.find(']');
  if (close == std::string::npos || close == 1) return false;
  std::string inside = s.substr(1, close - 1);
  if (inside.find_first_not_of("0123456789abcdefABCDEF:.") != std::string::npos) return false;
  *end = close + 1;
  return true;
}

bool ListenAddress(const std::string& a) {
  if (a.rfind("unix:", 0) == 0) return PathChars(a.substr(5));
  std::size_t end = 0;
  if (Ipv6Host(a, &end)) return end == a.size() || (a[end] == ':' && Port(a.substr(end + 1)));
  std::size_t colon = a.rfind(':');
  if (colon == std::string::npos) return Digits(a) ? Port(a) : HostName(a);
  std::string host = a.substr(0, colon);
  return (host == "*" || HostName(host)) && Port(a.substr(colon + 1));
}

bool Size(const std::string& s) {
  std::string digits = s;
  if (!digits.empty() && std::string("kKmMgG").find(digits.back()) != std::string::npos) digits.pop_back();
  return Digits(digits) && digits.size() <= 15;
}

bool ListenFlag(const std::string& f) {
  for (const char* plain :
       {"ssl", "http2", "quic", "default_server", "reuseport", "proxy_protocol", "deferred", "bind"})
    if (f == plain) return true;
  std::size_t eq = f.find('=');
  if (eq == std::string::npos) return false;
  std::string key = f.substr(0, eq), value = f.substr(eq + 1);
  if (key == "ipv6only") return value == "on" || value == "off";
  if (key == "backlog") return Digits(value) || value == "-1";
  if (key == "fastopen") return Digits(value);
  if (key == "rcvbuf" || key == "sndbuf") return Size(value);
  if (key == "so_keepalive")
    return value == "on" || value == "off" ||
           (!value.empty() && value.find_first_not_of("0123456789smh:") == std::string::npos &&
            std::count(value.begin(), value.end(), ':') == 2);
  return false;
}

// After http:// or https://: "host[:port][/path]" or "unix:/path.sock[:/path]".
bool UrlRest(const std::string& rest) {
  std::string uri;
  if (rest.rfind("unix:", 0) == 0) {
    std::size_t colon = rest.find(':', 5);
    if (!PathChars(rest.substr(5, colon == std::string::npos ? std::string::npos : colon - 5))) return false;
    if (colon == std::string::npos) return true;
    uri = rest.substr(colon + 1);
    if (uri.empty()) return true;
  } else {
    std::size_t slash = rest.find('/');
    std::string authority = rest.substr(0, slash);
    std::size_t end = 0;
    bool host_ok;
    if (Ipv6Host(authority, &end)) {
      host_ok = end == authority.size() || (authority[end] == ':' && Port(authority.substr(end + 1)));
    } else {
      std::size_t colon = authority.find(':');
      host_ok =
          HostName(authority.substr(0, colon)) && (colon == std::string::npos || Port(authority.substr(colon + 1)));
    }
    if (!host_ok) return false;
    if (slash == std::string::npos) return true;
    uri = rest.substr(slash);
  }
  if (uri.empty() || uri[0] != '/') return false;
  for (std::size_t i = 0; i < uri.size(); ++i) {
    char c = uri[i];
    if (c == '%') {
      if (i + 2 >= uri.size() || !std::isxdigit(static_cast<unsigned char>(uri[i + 1])) ||
          !std::isxdigit(static_cast<unsigned char>(uri[i + 2])))
        return false;
    } else if (!Alnum(c) && std::string("-._~!&()*+,=:@/?").find(c) == std::string::npos) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string CheckServerName(const std::string& s, const AttrMap&) {
  if (!s.empty() && s[0] == '~') return Refuse("regular-expression names (~…) are not supported", kServerName);
  if (std::string bad = Syntax(s); !bad.empty()) return Refuse(bad, kServerName);
  if (s == "_") return "";
  std::string name = s;
  if (name.rfind("*.", 0) == 0) name = name.substr(2);
  else if (name.rfind(".", 0) == 0) name = name.substr(1);
  else if (name.size() > 2 && name.compare(name.size() - 2, 2, ".*") == 0) name.resize(name.size() - 2);
  if (!HostName(name)) return Refuse(s.empty() ? "is empty" : "is not a server name", kServerName);
  return "";
}

std::string CheckListen(const std::string& s, const AttrMap&) {
  for (char c : s)
    if (c != ' ' && (static_cast<unsigned char>(c) < 0x20 || c == 0x7f))
      return Refuse(Syntax(std::string(1, c)), kListen);
  std::vector<std::string> words;
  std::size_t at = 0;
  while (at <= s.size()) {
    std::size_t space = s.find(' ', at);
    words.push_back(s.substr(at, space == std::string::npos ? std::string::npos : space - at));
    if (space == std::string::npos) break;
    at = space + 1;
  }
  for (const std::string& w : words) {
    if (w.empty()) return Refuse(s.empty() ? "is empty" : "has an empty word (one space between words)", kListen);
    if (std::string bad = Syntax(w); !bad.empty()) return Refuse(bad, kListen);
  }
  if (!ListenAddress(words[0])) return Refuse("'" + words[0] + "' is not a port or address:port", kListen);
  for (std::size_t i = 1; i < words.size(); ++i)
    if (!ListenFlag(words[i])) return Refuse("'" + words[i] + "' is not a listen flag reconcile knows", kListen);
  return "";
}

std::string CheckProxyPass(const std::string& s, const AttrMap&) {
  if (std::string bad = Syntax(s); !bad.empty()) return Refuse(bad, kProxyPass);
  std::string rest;
  if (s.rfind("http://", 0) == 0) rest = s.substr(7);
  else if (s.rfind("https://", 0) == 0) rest = s.substr(8);
  else return Refuse("does not start with http:// or https://", kProxyPass);
  if (!UrlRest(rest)) return Refuse("is not a URL nginx can pass requests to", kProxyPass);
  return "";
}

std::string CheckPath(const std::string& s, const AttrMap&) {
  if (std::string bad = Syntax(s); !bad.empty()) return Refuse(bad, kPath);
  if (!PathChars(s)) return Refuse(s.empty() || s[0] != '/' ? "is not an absolute path" : "is not a plain path", kPath);
  return "";
}

std::string CheckSize(const std::string& s, const AttrMap&) {
  if (std::string bad = Syntax(s); !bad.empty()) return Refuse(bad, kSize);
  if (!Size(s)) return Refuse("is not a size", kSize);
  return "";
}

std::string CheckPage(const std::string& s, const AttrMap&) {
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7f)
      return "holds a control character; the page may hold any text but control characters and '$'";
    if (c == '$')
      return "holds '$', which nginx reads as a variable even in a quoted string; write &#36; for a dollar sign";
  }
  return "";
}

Status CheckSite(const std::string& address, const AttrMap& attrs) {
  struct Rule {
    const char* attr;
    std::string (*check)(const std::string&, const AttrMap&);
  };
  static const Rule kRules[] = {{"server_names", CheckServerName},  {"listen", CheckListen},
                                {"proxy_pass", CheckProxyPass},     {"tls_certificate", CheckPath},
                                {"tls_certificate_key", CheckPath}, {"client_max_body_size", CheckSize},
                                {"maintenance_page", CheckPage},    {"config_dir", CheckPath}};
  for (const Rule& rule : kRules) {
    auto it = attrs.find(rule.attr);
    if (it == attrs.end()) continue;
    std::vector<std::string> values;
    if (const auto* s = std::get_if<std::string>(&it->second)) values.push_back(*s);
    if (const auto* l = std::get_if<StringList>(&it->second)) values = *l;
    for (const std::string& v : values)
      if (std::string why = rule.check(v, attrs); !why.empty())
        return Error{address + ": attribute '" + rule.attr + "' " + why + "; the site file was not written"};
  }
  return Status::Ok();
}

}  // namespace reconcile::nginx
