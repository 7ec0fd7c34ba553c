// Preloaded into reconcile by the crash tests (LD_PRELOAD; never linked into it), the way
// LevelDB's fault-injection Env sits under the database: SIGKILLs the process right after the
// journal durably holds record RECONCILE_CRASH_AFTER_RECORD — after the fdatasync of the file
// journal that made it so, or after the COMMIT of the PostgreSQL transaction that inserted it.
// Production code carries no hook.
#include <dlfcn.h>
#include <libpq-fe.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

unsigned long long Target() {
  static const unsigned long long target = [] {
    const char* s = std::getenv("RECONCILE_CRASH_AFTER_RECORD");
    return s ? std::strtoull(s, nullptr, 10) : 0ULL;
  }();
  return target;
}

// The records a file journal holds: its lines after the header, when `fd` is one.
unsigned long long JournalRecords(int fd) {
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) return 0;
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  if (::pread(fd, text.data(), text.size(), 0) != static_cast<ssize_t>(text.size())) return 0;
  if (text.rfind("{\"reconcile_journal\":", 0) != 0) return 0;
  auto lines = static_cast<unsigned long long>(std::count(text.begin(), text.end(), '\n'));
  return lines > 0 ? lines - 1 : 0;
}

}  // namespace

extern "C" int fdatasync(int fd) {
  static auto real = reinterpret_cast<int (*)(int)>(::dlsym(RTLD_NEXT, "fdatasync"));
  int rc = real(fd);
  if (rc == 0 && Target() > 0 && JournalRecords(fd) >= Target()) ::raise(SIGKILL);
  return rc;
}

extern "C" PGresult* PQexecParams(PGconn* conn, const char* command, int n, const Oid* types, const char* const* values,
                                  const int* lengths, const int* formats, int result_format) {
  using Fn = PGresult* (*)(PGconn*, const char*, int, const Oid*, const char* const*, const int*, const int*, int);
  static auto real = reinterpret_cast<Fn>(::dlsym(RTLD_NEXT, "PQexecParams"));
  static thread_local unsigned long long inserted = 0;  // the highest seq of the open transaction
  static const char kInsert[] = "INSERT INTO reconcile_journal (";
  if (Target() > 0 && std::strncmp(command, kInsert, sizeof kInsert - 1) == 0 && n >= 2 && values && values[1])
    inserted = std::max(inserted, std::strtoull(values[1], nullptr, 10));
  PGresult* res = real(conn, command, n, types, values, lengths, formats, result_format);
  if (std::strcmp(command, "COMMIT") == 0 || std::strcmp(command, "ROLLBACK") == 0) {
    bool committed = command[0] == 'C' && PQresultStatus(res) == PGRES_COMMAND_OK;
    if (committed && Target() > 0 && inserted >= Target()) ::raise(SIGKILL);
    inserted = 0;
  }
  return res;
}

extern "C" int rename(const char* from, const char* to) {
  static auto real = reinterpret_cast<int (*)(const char*, const char*)>(::dlsym(RTLD_NEXT, "rename"));
  static const char* when = std::getenv("RECONCILE_CRASH_AT_CHECKPOINT");
  static const std::string kSuffix = ".checkpoint";
  std::string target = to ? to : "";
  bool checkpoint = when && target.size() > kSuffix.size() &&
                    target.compare(target.size() - kSuffix.size(), kSuffix.size(), kSuffix) == 0;
  if (checkpoint && std::strcmp(when, "before") == 0) ::raise(SIGKILL);
  int rc = real(from, to);
  if (checkpoint && std::strcmp(when, "after") == 0) ::raise(SIGKILL);
  return rc;
}
