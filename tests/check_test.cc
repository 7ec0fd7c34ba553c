// Checks of kind http and tcp against real servers this test starts itself on loopback
// (python3's http.server, openssl s_server, a listening socket), so they need no lab: what a
// 200, a 404, a redirect, a body, a refusal, an untrusted certificate and a port read as.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "providers/check/check_provider.h"
#include "tests/support/local_server.h"
#include "tests/support/temp_dir.h"

using namespace reconcile;
using namespace reconcile::testing;
namespace fs = std::filesystem;

namespace {

Result<CheckResult> Run(AttrMap attrs) {
  CheckProvider p;
  TypeSchema schema = p.Types()[0];
  return p.Check(Target{"check.t", &schema, std::move(attrs), nullptr, nullptr});
}

// A socket listening on 127.0.0.1 at a port the kernel picked; closed when it goes.
struct Listener {
  int fd = -1;
  int port = 0;
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd, 8) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
      throw std::runtime_error("cannot listen on 127.0.0.1");
    port = ntohs(a.sin_port);
  }
  ~Listener() { Close(); }
  void Close() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

}  // namespace

TEST_CASE("http: status, body and redirects of a real python http.server") {
  TempDir dir;
  std::ofstream(dir.path / "health.txt") << "status: ready\n";
  fs::create_directory(dir.path / "sub");
  int port = FreePort();
  Server server(
      {"python3", "-m", "http.server", std::to_string(port), "--bind", "127.0.0.1", "--directory", dir.path.string()},
      port, dir.path / "server.log");
  std::string base = "http://127.0.0.1:" + std::to_string(port);

  auto ok = Run({{"kind", "http"}, {"url", base + "/health.txt"}});
  REQUIRE(ok);
  CHECK(ok->holds);
  CHECK(ok->detail == "HTTP 200 from " + base + "/health.txt");

  auto missing = Run({{"kind", "http"}, {"url", base + "/nothing"}});
  REQUIRE(missing);
  CHECK_FALSE(missing->holds);
  CHECK(missing->detail == "HTTP 404 from " + base + "/nothing (wanted 200)");
  auto wanted_404 = Run({{"kind", "http"}, {"url", base + "/nothing"}, {"expect_status", std::int64_t{404}}});
  REQUIRE(wanted_404);
  CHECK(wanted_404->holds);

  auto body = Run({{"kind", "http"}, {"url", base + "/health.txt"}, {"body_contains", "status: ready"}});
  REQUIRE(body);
  CHECK(body->holds);
  auto lacks = Run({{"kind", "http"}, {"url", base + "/health.txt"}, {"body_contains", "status: draining"}});
  REQUIRE(lacks);
  CHECK_FALSE(lacks->holds);
  CHECK(lacks->detail == "HTTP 200 from " + base + "/health.txt, but the body lacks \"status: draining\"");

  // http.server answers /sub with a 301 to /sub/. Not followed: the redirect is the answer.
  auto moved = Run({{"kind", "http"}, {"url", base + "/sub"}});
  REQUIRE(moved);
  CHECK_FALSE(moved->holds);
  CHECK(moved->detail == "HTTP 301 from " + base + "/sub (wanted 200)");
  auto wanted_301 = Run({{"kind", "http"}, {"url", base + "/sub"}, {"expect_status", std::int64_t{301}}});
  REQUIRE(wanted_301);
  CHECK(wanted_301->holds);
}

TEST_CASE("http: a closed port does not hold; a URL that cannot be requested is an error") {
  std::string url = "http://127.0.0.1:" + std::to_string(FreePort()) + "/";
  auto refused = Run({{"kind", "http"}, {"url", url}});
  REQUIRE(refused);
  CHECK_FALSE(refused->holds);
  CHECK(refused->detail == "connection refused: " + url);

  auto malformed = Run({{"kind", "http"}, {"url", "htp:/nowhere"}});
  REQUIRE_FALSE(malformed);
  CHECK(malformed.error().message.find("the url \"htp:/nowhere\" cannot be requested") == 0);
}

TEST_CASE("http: a certificate nobody vouches for does not hold (TLS is verified)") {
  TempDir dir;
  std::string key = (dir.path / "key.pem").string(), cert = (dir.path / "cert.pem").string();
  REQUIRE(RunToEnd({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1"},
                   dir.path / "openssl.log") == 0);
  int port = FreePort();
  Server server({"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port), "-cert", cert, "-key", key,
                 "-www", "-quiet"},
                port, dir.path / "server.log");
  std::string url = "https://127.0.0.1:" + std::to_string(port) + "/";
  auto untrusted = Run({{"kind", "http"}, {"url", url}});
  REQUIRE(untrusted);
  CHECK_FALSE(untrusted->holds);
  CHECK(untrusted->detail.find("certificate") != std::string::npos);
  CHECK(untrusted->detail.find(url) != std::string::npos);
}

TEST_CASE("tcp: a port this test listens on, then closes") {
  Listener listener;
  std::string where = "127.0.0.1:" + std::to_string(listener.port);
  AttrMap tcp = {{"kind", "tcp"}, {"address", "127.0.0.1"}, {"port", std::int64_t{listener.port}}};
  AttrMap tcp_closed = tcp;
  tcp_closed["expect"] = "closed";

  auto open = Run(tcp);
  REQUIRE(open);
  CHECK(open->holds);
  CHECK(open->detail == where + " accepts connections");
  auto wanted_closed = Run(tcp_closed);
  REQUIRE(wanted_closed);
  CHECK_FALSE(wanted_closed->holds);
  CHECK(wanted_closed->detail == where + " accepts connections");

  listener.Close();
  auto gone = Run(tcp);
  REQUIRE(gone);
  CHECK_FALSE(gone->holds);
  CHECK(gone->detail == where + " does not: Connection refused");
  auto closed = Run(tcp_closed);
  REQUIRE(closed);
  CHECK(closed->holds);
}

TEST_CASE("tcp: a name that does not resolve is an error, not a closed port") {
  auto r =
      Run({{"kind", "tcp"}, {"address", "no-such-host.invalid"}, {"port", std::int64_t{80}}, {"expect", "closed"}});
  REQUIRE_FALSE(r);
  CHECK(r.error().message.find("cannot resolve no-such-host.invalid") == 0);
}

TEST_CASE("a kind this build does not evaluate is an error naming the kind") {
  auto r = Run({{"kind", "s3_manifest"}, {"bucket", "b"}, {"keys", StringList{"k"}}});
  REQUIRE_FALSE(r);
  CHECK(r.error().message ==
        "check.t: checks of kind 's3_manifest' are not available in this build yet (http, tcp, "
        "dns, tls, command and wait are)");
}
