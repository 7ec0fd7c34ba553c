#include "providers/ssh/ssh_config.h"

#include <glob.h>

#include <cerrno>
#include <cstddef>
#include <map>
#include <utility>

#include "engine/os_calls.h"

namespace reconcile {
namespace {

constexpr int kMaxIncludeDepth = 16;  // OpenSSH's READCONF_MAX_DEPTH: past it, a file includes itself
// Far past any real config; a device named by mistake ends instead of filling memory.
constexpr std::size_t kMaxConfigBytes = 4 << 20;
// Tokens OpenSSH expands in IdentityFile and UserKnownHostsFile that we cannot (hashes, the
// local host name, uid, HostKeyAlias): such a file is left out with a note. Any other token is
// one ssh refuses, and so an error.
constexpr std::string_view kTokensNotFollowed = "CiklL";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Error Invalid(const std::string& where, const std::string& what) {
  return Error{where + ": " + what, ErrorCode::kInvalid, true};
}

struct ConfigLine {
  std::string keyword;  // lowercased: keywords are case-insensitive
  std::vector<std::string> args;
};

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\f'; }

// A line split as OpenSSH splits it (readconf.c's strdelim, misc.c's argv_split): the keyword
// ends at whitespace or '=', and one '=' may stand between it and the arguments; arguments are
// separated by whitespace, quoted with " or ', and \ escapes a quote, a backslash or (outside
// quotes) a space; a word that starts with # ends the line. False on a quote left open.
bool SplitLine(std::string_view s, ConfigLine* line) {
  std::size_t i = 0;
  while (i < s.size() && IsSpace(s[i])) ++i;
  const std::size_t start = i;
  while (i < s.size() && !IsSpace(s[i]) && s[i] != '=') ++i;
  line->keyword = Lower(s.substr(start, i - start));
  while (i < s.size() && IsSpace(s[i])) ++i;
  if (i < s.size() && s[i] == '=') {
    ++i;
    while (i < s.size() && IsSpace(s[i])) ++i;
  }
  while (i < s.size()) {
    if (IsSpace(s[i])) {
      ++i;
      continue;
    }
    if (s[i] == '#') break;
    std::string arg;
    char quote = 0;
    for (; i < s.size(); ++i) {
      const char c = s[i];
      const char next = i + 1 < s.size() ? s[i + 1] : '\0';
      if (c == '\\' && (next == '"' || next == '\'' || next == '\\' || (!quote && next == ' '))) {
        arg += next;
        ++i;
      } else if (!quote && IsSpace(c)) {
        break;
      } else if (!quote && (c == '"' || c == '\'')) {
        quote = c;
      } else if (quote && c == quote) {
        quote = 0;
      } else {
        arg += c;
      }
    }
    if (quote) return false;
    line->args.push_back(std::move(arg));
  }
  return true;
}

// OpenSSH's match_pattern: * is any run of characters, ? any one; case counts.
bool MatchPattern(std::string_view s, std::string_view p) {
  std::size_t si = 0, pi = 0, star = std::string_view::npos, resume = 0;
  while (si < s.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      resume = si;
    } else if (pi < p.size() && (p[pi] == '?' || p[pi] == s[si])) {
      ++pi;
      ++si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++resume;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

// A Host line applies when a pattern matches and no negated one (!pattern) does.
bool HostMatches(const std::string& host, const std::vector<std::string>& patterns) {
  bool matched = false;
  for (const std::string& p : patterns) {
    const bool negated = !p.empty() && p[0] == '!';
    if (!MatchPattern(host, negated ? std::string_view(p).substr(1) : std::string_view(p))) continue;
    if (negated) return false;
    matched = true;
  }
  return matched;
}

// `text` with %% made % and each %X of `tokens` replaced; nullopt at the first other token,
// which is put in *bad ("%" alone for a % that ends the text).
std::optional<std::string> ExpandTokens(std::string_view text, const std::map<char, std::string>& tokens,
                                        std::string* bad) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 1 == text.size()) {
      *bad = "%";
      return std::nullopt;
    }
    const char t = text[++i];
    if (t == '%') {
      out += '%';
    } else if (auto it = tokens.find(t); it != tokens.end()) {
      out += it->second;
    } else {
      *bad = std::string("%") + t;
      return std::nullopt;
    }
  }
  return out;
}

// A value as first obtained, with the place it came from, expanded once all is read (%h in
// IdentityFile is the HostName, which may come later in the file).
struct Obtained {
  std::string value;
  std::string where;  // FILE:LINE
};

// One pass over a config and the files it includes, keeping what ssh would keep.
class Reader {
 public:
  Reader(const std::string& host, std::string_view home, std::string_view local_user)
      : host_(host),
        home_(home),
        local_user_(local_user) {}

  // `*active`: whether the lines being read apply (a matching Host block, or none yet); an
  // included file starts with its Include line's and leaves the includer's unchanged.
  // `never_match`: included from a block that does not apply, so no Host in it applies either.
  Status File(std::string_view text, const std::string& name, int depth, bool* active, bool never_match);
  Result<SshConfigEntry> Finish();

 private:
  Status Line(const ConfigLine& line, const std::string& where, int depth, bool* active, bool never_match);
  Status Include(const std::vector<std::string>& args, const std::string& where, int depth, bool active,
                 bool never_match);
  // A file path of IdentityFile or UserKnownHostsFile, expanded onto `out` (once), or noted.
  Status AddPath(const Obtained& path, const char* keyword, const std::map<char, std::string>& tokens,
                 std::vector<std::string>* out);
  std::string Tilde(const std::string& path) const {
    return path == "~" || path.starts_with("~/") ? home_ + path.substr(1) : path;
  }

  const std::string host_, home_, local_user_;
  std::optional<Obtained> hostname_, user_;
  std::optional<int> port_;
  std::optional<std::string> proxy_jump_;
  bool proxy_obtained_ = false;  // ProxyJump or ProxyCommand: whichever comes first wins
  std::vector<Obtained> identity_files_;
  std::optional<std::vector<Obtained>> known_hosts_;
  std::vector<std::string> ignored_;
};

Status Reader::File(std::string_view text, const std::string& name, int depth, bool* active, bool never_match) {
  int number = 0;
  while (!text.empty()) {
    const std::size_t end = text.find('\n');
    const std::string_view raw = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    const std::string where = name + ":" + std::to_string(++number);
    ConfigLine line;
    if (!SplitLine(raw, &line)) return Invalid(where, "a quote is not closed");
    if (line.keyword.empty() || line.keyword[0] == '#') continue;
    if (line.args.empty()) return Invalid(where, "no value after " + line.keyword);
    if (auto s = Line(line, where, depth, active, never_match); !s) return s;
  }
  return Status::Ok();
}

Status Reader::Line(const ConfigLine& line, const std::string& where, int depth, bool* active, bool never_match) {
  const std::string& k = line.keyword;
  const std::vector<std::string>& a = line.args;
  if (k == "host") {
    *active = !never_match && HostMatches(host_, a);
    return Status::Ok();
  }
  if (k == "match") {
    // "Match all" is the one condition that needs nothing we do not know: often a config's
    // way back to settings for every host after Match blocks.
    if (a.size() == 1 && Lower(a[0]) == "all") {
      *active = !never_match;
    } else {
      ignored_.push_back(where + ": Match is not supported: its block is skipped");
      *active = false;
    }
    return Status::Ok();
  }
  if (k == "include") return Include(a, where, depth, *active, never_match);
  if (k == "proxycommand") {
    if (*active && !proxy_obtained_) {
      proxy_obtained_ = true;
      if (Lower(a[0]) != "none") ignored_.push_back(where + ": ProxyCommand is not supported: no proxy is used");
    }
    return Status::Ok();
  }
  if (k == "userknownhostsfile") {
    if (*active && !known_hosts_) {
      known_hosts_.emplace();
      for (const std::string& f : a) known_hosts_->push_back({f, where});
    }
    return Status::Ok();
  }
  static const std::map<std::string, const char*> kOneValue = {{"hostname", "HostName"},
                                                               {"user", "User"},
                                                               {"port", "Port"},
                                                               {"proxyjump", "ProxyJump"},
                                                               {"identityfile", "IdentityFile"}};
  const auto one = kOneValue.find(k);
  if (one == kOneValue.end()) return Status::Ok();  // a keyword that does not change how we connect
  if (a.size() != 1) return Invalid(where, std::string(one->second) + " takes one value (quote one with spaces)");
  const std::string& v = a[0];
  if (k == "port") {
    // Checked in every block, as ssh does: a config it refuses is refused here too.
    const bool digits = !v.empty() && v.size() <= 5 && v.find_first_not_of("0123456789") == std::string::npos;
    const int port = digits ? std::stoi(v) : 0;
    if (port < 1 || port > 65535) return Invalid(where, "Port '" + v + "' is not a port number (1 to 65535)");
    if (*active && !port_) port_ = port;
  } else if (!*active) {
    return Status::Ok();
  } else if (k == "hostname") {
    if (!hostname_) hostname_ = Obtained{v, where};
  } else if (k == "user") {
    if (!user_) user_ = Obtained{v, where};
  } else if (k == "proxyjump") {
    if (!proxy_obtained_) proxy_jump_ = v;
    proxy_obtained_ = true;
  } else {
    identity_files_.push_back({v, where});
  }
  return Status::Ok();
}

Status Reader::Include(const std::vector<std::string>& args, const std::string& where, int depth, bool active,
                       bool never_match) {
  for (const std::string& arg : args) {
    // Relative to ~/.ssh, as for a user's config; ~user is left to glob.
    const std::string pattern = arg.starts_with('/') || arg.starts_with('~') ? Tilde(arg) : home_ + "/.ssh/" + arg;
    glob_t found{};
    const int r = ::glob(pattern.c_str(), GLOB_TILDE, nullptr, &found);
    std::vector<std::string> files;
    if (r == 0) files.assign(found.gl_pathv, found.gl_pathv + found.gl_pathc);
    ::globfree(&found);
    if (r == GLOB_NOMATCH) continue;  // as ssh: a pattern that names no file includes nothing
    if (r != 0) return Invalid(where, "Include " + arg + ": cannot list " + pattern);
    for (const std::string& file : files) {
      if (depth >= kMaxIncludeDepth) {
        return Invalid(where, "Include nested more than " + std::to_string(kMaxIncludeDepth) +
                                  " deep (does a file include itself?)");
      }
      std::string text;
      if (int err = ReadWholeFile(file, kMaxConfigBytes, &text)) {
        if (err == ENOENT) continue;  // gone since glob listed it
        return Error{where + ": Include " + file + ": " + ErrnoText(err), ErrorCode::kOther, true};
      }
      bool included_active = active;
      if (auto s = File(text, file, depth + 1, &included_active, never_match || !active); !s) return s;
    }
  }
  return Status::Ok();
}

Status Reader::AddPath(const Obtained& path, const char* keyword, const std::map<char, std::string>& tokens,
                       std::vector<std::string>* out) {
  const std::string what = path.where + ": " + keyword + " " + path.value;
  std::string expanded = path.value;
  if (Lower(expanded) == "none") {
    expanded = "none";
  } else {
    expanded = Tilde(expanded);
    if (expanded.starts_with('~')) {
      ignored_.push_back(what + ": ~user is not supported: left out");
      return Status::Ok();
    }
    if (expanded.find("${") != std::string::npos) {
      ignored_.push_back(what + ": environment variables are not supported: left out");
      return Status::Ok();
    }
    std::string bad;
    auto p = ExpandTokens(expanded, tokens, &bad);
    if (!p && bad.size() == 2 && kTokensNotFollowed.find(bad[1]) != std::string_view::npos) {
      ignored_.push_back(what + ": " + bad + " is not supported: left out");
      return Status::Ok();
    }
    if (!p) return Invalid(path.where, std::string(keyword) + " " + path.value + ": ssh knows no " + bad);
    expanded = std::move(*p);
  }
  for (const std::string& f : *out) {
    if (f == expanded) return Status::Ok();
  }
  out->push_back(std::move(expanded));
  return Status::Ok();
}

Result<SshConfigEntry> Reader::Finish() {
  SshConfigEntry entry;
  // ssh connects to the name lowercased, and %h is that name in every token expansion.
  std::string connect_to = Lower(host_);
  if (hostname_) {
    std::string bad;
    auto h = ExpandTokens(hostname_->value, {{'h', connect_to}}, &bad);
    if (!h)
      return Invalid(hostname_->where,
                     "HostName " + hostname_->value + ": ssh expands only %h and %% in it, not " + bad);
    connect_to = Lower(*h);
    entry.hostname = connect_to;
  }
  if (user_) entry.user = user_->value;
  entry.port = port_;
  entry.proxy_jump = proxy_jump_;
  const std::map<char, std::string> tokens = {
      {'d', home_},
      {'h', connect_to},
      {'j', proxy_jump_ && *proxy_jump_ != "none" ? *proxy_jump_ : ""},
      {'n', host_},
      {'p', std::to_string(port_.value_or(22))},
      {'r', user_ ? user_->value : local_user_},
      {'u', local_user_},
  };
  for (const Obtained& f : identity_files_) {
    if (auto s = AddPath(f, "IdentityFile", tokens, &entry.identity_files); !s) return s.error();
  }
  if (known_hosts_) {
    for (const Obtained& f : *known_hosts_) {
      if (auto s = AddPath(f, "UserKnownHostsFile", tokens, &entry.user_known_hosts_files); !s) return s.error();
    }
  }
  entry.ignored = std::move(ignored_);
  return entry;
}

}  // namespace

Result<SshConfigEntry> ParseSshConfig(std::string_view text, const std::string& file_name, const std::string& host,
                                      std::string_view home, std::string_view local_user) {
  Reader reader(host, home, local_user);
  bool active = true;  // lines before any Host apply to every host
  if (auto s = reader.File(text, file_name, 0, &active, false); !s) return s.error();
  return reader.Finish();
}

Result<SshConfigEntry> ReadSshConfig(const std::string& path, const std::string& host, std::string_view home,
                                     std::string_view local_user) {
  const std::string file = path == "~" || path.starts_with("~/") ? std::string(home) + path.substr(1) : path;
  std::string text;
  if (int err = ReadWholeFile(file, kMaxConfigBytes, &text)) {
    return Error{"ssh config " + file + ": " + ErrnoText(err),
                 err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kOther};
  }
  return ParseSshConfig(text, file, host, home, local_user);
}

}  // namespace reconcile
