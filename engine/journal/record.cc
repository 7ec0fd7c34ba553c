// Record checksums and lock holder details, shared by every journal backend.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <ctime>
#include <random>

#include "engine/hash.h"
#include "engine/os_calls.h"
#include "engine/journal/journal.h"

namespace reconcile {

std::string RecordSummedText(const JournalRecord& r) {
  // What dumping {seq, at, kind, data} as one object gives (its keys sorted), built without
  // copying the data into a new object first.
  std::string text = "{\"at\":";
  text += nlohmann::json(r.at).dump();
  text += ",\"data\":";
  text += r.data.dump();
  text += ",\"kind\":";
  text += nlohmann::json(r.kind).dump();
  text += ",\"seq\":";
  text += std::to_string(r.seq);
  text += "}";
  return text;
}

std::string RecordChecksum(const JournalRecord& r) { return Sha256Hex(RecordSummedText(r)).substr(0, 16); }

namespace {

// A state as Sealer::Seal writes it: {exists, attrs}, attrs maybe sealed or redacted.
std::string StateShapeError(const std::string& field, const nlohmann::json& v) {
  if (v.is_null()) return "";
  if (!v.is_object()) return "field '" + field + "' is not an object";
  if (auto e = v.find("exists"); e != v.end() && !e->is_boolean())
    return "field '" + field + ".exists' is not true or false";
  if (auto p = v.find("private"); p != v.end() && !p->is_string())
    return "field '" + field + ".private' is not a string";
  auto found = v.find("attrs");
  if (found == v.end()) return "";
  const nlohmann::json& attrs = *found;
  if (!attrs.is_object()) return "field '" + field + ".attrs' is not an object";
  for (auto it = attrs.begin(); it != attrs.end(); ++it) {
    const nlohmann::json& a = it.value();
    if (auto sealed = a.is_object() ? a.find("$sealed") : a.end(); sealed != a.end() && !sealed->is_string())
      return "field '" + field + ".attrs." + it.key() + ".$sealed' is not a string";
  }
  return "";
}

}  // namespace

std::string RecordShapeError(const JournalRecord& r) {
  // Each field has one type whatever the kind (journal.h); a kind added later is read the same.
  static const char* const kStrings[] = {"op", "stage",   "address", "type",        "action", "error",
                                         "to", "through", "result",  "spec_sha256", "holder"};
  const nlohmann::json& d = r.data;
  if (!d.is_object()) return "its data is not an object";
  // Each looked up once: every record appended is checked.
  for (const char* f : kStrings)
    if (auto it = d.find(f); it != d.end() && !it->is_string()) return "field '" + std::string(f) + "' is not a string";
  for (const char* f : {"prior", "desired", "state"})
    if (auto it = d.find(f); it != d.end())
      if (std::string why = StateShapeError(f, *it); !why.empty()) return why;
  if (d.contains("undone")) {
    if (!d["undone"].is_array()) return "field 'undone' is not a list";
    for (const nlohmann::json& e : d["undone"])
      if (!e.is_string()) return "field 'undone' holds something other than stage names";
  }
  return "";
}

std::string NowUtc() {
  std::time_t t = std::time(nullptr);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string NowUtcMillis() {
  auto now = std::chrono::system_clock::now();
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[40];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms));
  return buf;
}

std::optional<UtcTime> ParseUtc(const std::string& at) {
  std::tm tm{};
  const char* rest = strptime(at.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
  if (!rest) return std::nullopt;
  UtcTime out{std::chrono::system_clock::from_time_t(timegm(&tm)), true};
  if (*rest == '.') {
    int ms = 0, digits = 0;
    for (++rest; *rest >= '0' && *rest <= '9'; ++rest, ++digits)
      if (digits < 3) ms = ms * 10 + (*rest - '0');
    if (digits == 0) return std::nullopt;
    for (int d = digits; d < 3; ++d) ms *= 10;
    out.at += std::chrono::milliseconds(ms);
    out.whole_seconds = false;
  }
  if (std::string(rest) != "Z") return std::nullopt;
  return out;
}

std::string LockInfo::Describe() const {
  return (user.empty() ? std::string("an unknown holder") : user) + " (pid " +
         (pid > 0 ? std::to_string(pid) : std::string("?")) + ", " + (operation.empty() ? "?" : operation) +
         ", since " + (since.empty() ? "?" : since) + ", lock id " + (id.empty() ? "?" : id) + ")";
}

nlohmann::json LockInfo::ToJson() const {
  return {{"id", id}, {"user", user}, {"pid", pid}, {"operation", operation}, {"since", since}};
}

LockInfo LockInfo::FromJson(const nlohmann::json& j) {
  LockInfo l;
  if (!j.is_object()) return l;
  auto text = [&](const char* key) {
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  l.id = text("id");
  l.user = text("user");
  l.operation = text("operation");
  l.since = text("since");
  if (auto it = j.find("pid");
      it != j.end() && it->is_number_integer() && it->get<long long>() > 0 && it->get<long long>() <= 0x7fffffff)
    l.pid = static_cast<long>(it->get<long long>());
  return l;
}

bool LockInfo::OnThisHost() const {
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  std::size_t at = user.rfind('@');
  return at != std::string::npos && user.substr(at + 1) == host;
}

bool LockInfo::EndedHere() const {
  if (!OnThisHost() || pid <= 0) return false;
  return ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}

std::string LockRefusal(const std::string& journal, const std::optional<LockInfo>& holder,
                        const std::string& remote_note) {
  std::string who = holder ? holder->Describe() : std::string("another run");
  if (holder && holder->gone)
    return "the journal " + journal + " is locked by " + who +
           ", which has ended on this machine, but its lock remains.\n  Release it with: reconcile force-unlock SPEC " +
           holder->id;
  return "the journal " + journal + " is locked by " + who +
         ", which is still running.\n  Wait for it to finish, or pass --lock-timeout 10m to wait here." + remote_note;
}

LockInfo LockInfo::Mine(const std::string& operation) {
  LockInfo l;
  char host[256] = {0};
  ::gethostname(host, sizeof host - 1);
  l.user = UserName(::getuid()).value_or("?") + "@" + host;
  l.pid = static_cast<long>(::getpid());
  l.operation = operation;
  l.since = NowUtc();
  std::random_device rd;
  static const char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 12; ++i) l.id += kHex[rd() % 16];
  return l;
}

std::string RedactUrl(const std::string& url) {
  // postgres://user:secret@host/db → postgres://user@host/db
  std::size_t scheme = url.find("://");
  std::size_t at = url.find('@', scheme == std::string::npos ? 0 : scheme + 3);
  if (scheme == std::string::npos || at == std::string::npos) return url;
  std::size_t colon = url.find(':', scheme + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + url.substr(at);
}

}  // namespace reconcile
