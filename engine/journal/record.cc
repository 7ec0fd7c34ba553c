// Record checksums and lock holder details, shared by every journal backend.
#include <unistd.h>

#include <ctime>
#include <random>

#include "engine/hash.h"
#include "engine/os_calls.h"
#include "engine/journal/journal.h"

namespace reconcile {

std::string RecordChecksum(const JournalRecord& r) {
  nlohmann::json j = {{"seq", r.seq}, {"at", r.at}, {"kind", r.kind}, {"data", r.data}};
  return Sha256Hex(j.dump()).substr(0, 16);
}

std::string NowUtc() {
  std::time_t t = std::time(nullptr);
  std::tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string LockInfo::Describe() const {
  return user + " (pid " + std::to_string(pid) + ", " + operation + ", since " + since + ", lock id " + id + ")";
}

nlohmann::json LockInfo::ToJson() const {
  return {{"id", id}, {"user", user}, {"pid", pid}, {"operation", operation}, {"since", since}};
}

LockInfo LockInfo::FromJson(const nlohmann::json& j) {
  LockInfo l;
  l.id = j.value("id", "");
  l.user = j.value("user", "");
  l.pid = j.value("pid", 0L);
  l.operation = j.value("operation", "");
  l.since = j.value("since", "");
  return l;
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

}  // namespace reconcile
