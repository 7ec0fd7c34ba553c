#include "providers/check/tls_check.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <memory>
#include <vector>

#include "engine/os_calls.h"

namespace reconcile {

namespace {

constexpr int kTryMs = 5000;
constexpr std::size_t kNamesShown = 10;

struct SslCtxFree {
  void operator()(SSL_CTX* p) const { SSL_CTX_free(p); }
};
struct SslFree {
  void operator()(SSL* p) const { SSL_free(p); }
};
struct X509Free {
  void operator()(X509* p) const { X509_free(p); }
};
struct BioFree {
  void operator()(BIO* p) const { BIO_free_all(p); }
};
struct NamesFree {
  void operator()(GENERAL_NAMES* p) const { GENERAL_NAMES_free(p); }
};

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// A server that resets mid-handshake would make OpenSSL's next write kill the whole process with
// SIGPIPE. Blocked for this thread only (checks may run in parallel), and one raised meanwhile is
// taken back before the old mask returns.
class NoSigpipe {
 public:
  NoSigpipe() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    was_pending_ = ::sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~NoSigpipe() {
    sigset_t pending;
    if (!was_pending_ && ::sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE)) {
      timespec now{};
      ::sigtimedwait(&pipe_, nullptr, &now);
    }
    ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  NoSigpipe(const NoSigpipe&) = delete;
  NoSigpipe& operator=(const NoSigpipe&) = delete;

 private:
  sigset_t pipe_, old_;
  bool was_pending_ = false;
};

// What OpenSSL's error queue says, emptying it; a failed system call (a missing file) as its errno text.
std::string OpensslError() {
  unsigned long last = 0, sys = 0;
  while (unsigned long e = ERR_get_error()) {
    last = e;
    if (!sys && ERR_SYSTEM_ERROR(e)) sys = e;
  }
  if (sys) return ErrnoText(ERR_GET_REASON(sys));
  if (last == 0) return "unknown error";
  if (const char* reason = ERR_reason_error_string(last)) return reason;
  char buf[256];
  ERR_error_string_n(last, buf, sizeof buf);
  return buf;
}

bool IsIpLiteral(const std::string& s) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// A connected non-blocking socket, or -1 with `why` saying what happened (the server may not be up yet).
Result<int> Connect(const std::string& address, int port, std::string* why) {
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(address.c_str(), std::to_string(port).c_str(), &hints, &res);
  if (rc != 0) return Error{"cannot resolve " + address + ": " + gai_strerror(rc)};
  int connected = -1;
  for (addrinfo* ai = res; ai && connected < 0; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    if (::connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
      connected = fd;
    } else if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int err = 0;
      socklen_t len = sizeof err;
      if (::poll(&p, 1, kTryMs) == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0)
        connected = fd;
      else *why = err ? ErrnoText(err) : "no answer within " + std::to_string(kTryMs / 1000) + " s";
    } else {
      *why = ErrnoText(errno);
    }
    if (connected != fd) ::close(fd);
  }
  ::freeaddrinfo(res);
  return connected;
}

// Drives the handshake on the non-blocking socket until it completes (empty) or why it did not.
std::string Handshake(SSL* ssl, int fd) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTryMs);
  for (;;) {
    ERR_clear_error();
    errno = 0;
    int rc = SSL_connect(ssl);
    if (rc == 1) return "";
    int err = SSL_get_error(ssl, rc);
    short events = err == SSL_ERROR_WANT_READ ? POLLIN : err == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
    if (events == 0) {
      if (err == SSL_ERROR_SSL) return OpensslError();
      if (err == SSL_ERROR_SYSCALL && errno != 0) return ErrnoText(errno);
      return "the server closed the connection";
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd p{fd, events, 0};
    int n = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
    if (n == 0) return "no handshake within " + std::to_string(kTryMs / 1000) + " s";
    if (n < 0 && errno != EINTR) return ErrnoText(errno);
  }
}

std::string NameText(const X509_NAME* name) {
  std::unique_ptr<BIO, BioFree> bio(BIO_new(BIO_s_mem()));
  if (!bio || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) return "?";
  char* data = nullptr;
  long len = BIO_get_mem_data(bio.get(), &data);
  return len > 0 ? std::string(data, static_cast<std::size_t>(len)) : "(empty subject)";
}

std::string DateText(const ASN1_TIME* t) {
  std::tm tm{};
  char buf[32];
  if (ASN1_TIME_to_tm(t, &tm) != 1 || std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm) == 0) return "?";
  return buf;
}

std::string Days(long long n) { return n == 0 ? "less than a day" : std::to_string(n) + (n == 1 ? " day" : " days"); }

// The names a certificate covers as an operator would compare them: its DNS and IP subjectAltNames.
std::string CoveredNames(X509* cert) {
  std::unique_ptr<GENERAL_NAMES, NamesFree> sans(
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr)));
  std::vector<std::string> names;
  for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans.get()); ++i) {
    const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans.get(), i);
    if (g->type == GEN_DNS) {
      const ASN1_IA5STRING* s = g->d.dNSName;
      names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(s)),
                         static_cast<std::size_t>(ASN1_STRING_length(s)));
    } else if (g->type == GEN_IPADD) {
      const ASN1_OCTET_STRING* ip = g->d.iPAddress;
      int len = ASN1_STRING_length(ip);
      char buf[INET6_ADDRSTRLEN];
      if ((len == 4 || len == 16) &&
          ::inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(ip), buf, sizeof buf))
        names.emplace_back(buf);
    }
  }
  if (names.empty()) return "no subjectAltName; subject " + NameText(X509_get_subject_name(cert));
  std::string out = "it covers: ";
  for (std::size_t i = 0; i < names.size() && i < kNamesShown; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > kNamesShown) out += " and " + std::to_string(names.size() - kNamesShown) + " more";
  return out;
}

}  // namespace

Result<CheckResult> CheckTls(const AttrMap& attrs) {
  const std::string& address = std::get<std::string>(attrs.at("address"));
  const std::int64_t port = std::get<std::int64_t>(attrs.at("port"));
  const std::string name = StringAttr(attrs, "name", address);
  const std::int64_t min_days = std::get<std::int64_t>(attrs.at("min_days_valid"));
  const std::string ca_file = StringAttr(attrs, "ca_file");
  if (port < 1 || port > 65535) return Error{"port " + std::to_string(port) + " is not a TCP port (1-65535)"};
  if (min_days < 0) return Error{"min_days_valid cannot be negative (" + std::to_string(min_days) + ")"};
  const std::string where =
      (address.find(':') != std::string::npos ? "[" + address + "]" : address) + ":" + std::to_string(port);

  // Trust is settled before connecting: a ca_file that cannot be read is the spec's mistake, not a
  // server that is not up yet, and polling would not fix it.
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, SslCtxFree> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return Error{"cannot set up TLS: " + OpensslError()};
  if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1)
    return Error{"cannot load the system's trusted certificates: " + OpensslError()};
  if (!ca_file.empty() && SSL_CTX_load_verify_locations(ctx.get(), ca_file.c_str(), nullptr) != 1)
    return Error{"cannot load ca_file " + ca_file + ": " + OpensslError()};
  // Verified after the handshake rather than during it, so an untrusted certificate can still be
  // described (whom it names, when it expires) instead of ending in a bare handshake alert.
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);

  std::string why;
  auto connected = Connect(address, static_cast<int>(port), &why);
  if (!connected) return connected.error();
  if (*connected < 0) return CheckResult{false, where + " does not accept connections: " + why};
  Fd sock{*connected};

  std::unique_ptr<SSL, SslFree> ssl(SSL_new(ctx.get()));
  if (!ssl || SSL_set_fd(ssl.get(), sock.fd) != 1) return Error{"cannot set up TLS: " + OpensslError()};
  const bool ip = IsIpLiteral(name);
  // SNI carries host names only (RFC 6066); a certificate for an IP address is asked for without it.
  if (!ip && SSL_set_tlsext_host_name(ssl.get(), name.c_str()) != 1)
    return Error{"cannot send " + name + " as the TLS server name: " + OpensslError()};

  NoSigpipe no_sigpipe;
  if (std::string failed = Handshake(ssl.get(), sock.fd); !failed.empty())
    return CheckResult{false, where + " TLS handshake failed: " + failed};
  std::unique_ptr<X509, X509Free> cert(SSL_get1_peer_certificate(ssl.get()));
  const long verified = SSL_get_verify_result(ssl.get());
  SSL_shutdown(ssl.get());  // our close_notify only; the server's answer is not worth waiting for
  if (!cert) return CheckResult{false, where + " presented no certificate"};

  const ASN1_TIME* not_after = X509_get0_notAfter(cert.get());
  int days = 0, secs = 0;
  if (ASN1_TIME_diff(&days, &secs, nullptr, not_after) != 1)
    return CheckResult{false, where + " certificate has an unreadable notAfter date"};
  const long long left = static_cast<long long>(days) * 86400 + secs;
  std::string seen = where + " certificate for " + NameText(X509_get_subject_name(cert.get())) + ", valid until " +
                     DateText(not_after) + (left > 0 ? " (" + Days(days) + ")" : " (expired)");

  std::vector<std::string> problems;
  if (verified != X509_V_OK)
    problems.push_back(std::string("chain not verified: ") + X509_verify_cert_error_string(verified) + " (issuer " +
                       NameText(X509_get_issuer_name(cert.get())) + ")");
  int covers = ip ? X509_check_ip_asc(cert.get(), name.c_str(), 0)
                  : X509_check_host(cert.get(), name.data(), name.size(), 0, nullptr);
  if (covers != 1) problems.push_back("does not cover name " + name + " (" + CoveredNames(cert.get()) + ")");
  if (left <= 0) problems.push_back("expired, needs " + std::to_string(min_days) + " more days");
  else if (left < min_days * 86400)
    problems.push_back("expires in " + Days(days) + ", needs " + std::to_string(min_days));

  if (problems.empty()) return CheckResult{true, seen + ", covers " + name + ", chain verified"};
  seen += ": ";
  for (std::size_t i = 0; i < problems.size(); ++i) seen += (i ? "; " : "") + problems[i];
  return CheckResult{false, seen};
}

}  // namespace reconcile
