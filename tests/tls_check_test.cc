// Checks of kind tls (and http over TLS) against real `openssl s_server`s this test starts on loopback, with
// certificates it makes itself with the openssl CLI: a private CA, a leaf it signed for
// good.test, one it signed that expires in 2 days, and one self-signed. No lab needed; when
// openssl cannot run, the test fails (it is never skipped).
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
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

Result<CheckResult> Run(AttrMap attrs, const HostConfig* host = nullptr) {
  CheckProvider p;
  TypeSchema schema = p.Types()[0];
  return p.Check(Target{"check.t", &schema, std::move(attrs), host, nullptr});
}

// Runs an openssl command to completion; a failure throws with its output, so the test fails loudly.
void OpenSsl(std::vector<std::string> args, const fs::path& dir) {
  args.insert(args.begin(), "openssl");
  fs::path log = dir / "openssl.log";
  if (RunToEnd(args, log) != 0) {
    std::string line;
    for (const std::string& a : args) line += a + " ";
    throw std::runtime_error("failed: " + line + "\n" + ReadText(log));
  }
}

// `openssl s_server` serving one certificate, stopped by its PID. The constructor returns once
// the port accepts, and throws with the server's output if that takes 5 s.
struct TlsServer {
  int port = FreePort();
  Server server;
  TlsServer(const fs::path& cert, const fs::path& key, const fs::path& dir)
      : server({"openssl", "s_server", "-accept", "127.0.0.1:" + std::to_string(port), "-cert", cert.string(), "-key",
                key.string(), "-www", "-quiet"},
               port, dir / ("s_server-" + std::to_string(port) + ".log")) {}
  void Stop() { server.Stop(); }
};

// The certificates, made once per test case in its own temp dir.
struct Pki {
  TempDir dir;
  fs::path ca = dir.path / "ca.pem";

  Pki() {
    OpenSsl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
             Path("ca.key"), "-out", ca.string(), "-days", "30", "-subj", "/CN=Reconcile Test CA", "-addext",
             "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"},
            dir.path);
    Signed("good", "DNS:good.test,DNS:www.good.test,IP:127.0.0.1", 365, 2);
    Signed("soon", "DNS:soon.test", 2, 3);
    OpenSsl({"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
             Path("self.key"), "-out", Path("self.pem"), "-days", "365", "-subj", "/CN=good.test", "-addext",
             "subjectAltName=DNS:good.test"},
            dir.path);
  }
  std::string Path(const std::string& file) const { return (dir.path / file).string(); }

  // A leaf for `san`, signed by the CA, valid for `days`.
  void Signed(const std::string& stem, const std::string& san, int days, int serial) {
    std::ofstream(dir.path / (stem + ".ext")) << "subjectAltName=" << san << "\nbasicConstraints=CA:FALSE\n";
    OpenSsl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout",
             Path(stem + ".key"), "-out", Path(stem + ".csr"), "-subj", "/CN=" + stem + ".test"},
            dir.path);
    OpenSsl({"x509", "-req", "-in", Path(stem + ".csr"), "-CA", ca.string(), "-CAkey", Path("ca.key"), "-set_serial",
             std::to_string(serial), "-days", std::to_string(days), "-extfile", Path(stem + ".ext"), "-out",
             Path(stem + ".pem")},
            dir.path);
  }
};

AttrMap Tls(int port, const std::string& name, const std::string& ca_file) {
  AttrMap a = {{"kind", "tls"}, {"address", "127.0.0.1"}, {"port", std::int64_t{port}}};
  if (!name.empty()) a["name"] = name;
  if (!ca_file.empty()) a["ca_file"] = ca_file;
  return a;
}

bool Has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

// One set of certificates and servers for all of these, in order (the last one stops a server).
TEST_CASE("tls: chain, name and days of real openssl s_servers") {
  Pki pki;
  TlsServer good(pki.Path("good.pem"), pki.Path("good.key"), pki.dir.path);
  TlsServer soon(pki.Path("soon.pem"), pki.Path("soon.key"), pki.dir.path);
  TlsServer self(pki.Path("self.pem"), pki.Path("self.key"), pki.dir.path);
  const std::string ca = pki.ca.string();
  const std::string at_good = "127.0.0.1:" + std::to_string(good.port);

  {  // signed by the CA, for the name, a year to go: holds
    auto r = Run(Tls(good.port, "good.test", ca));
    REQUIRE(r);
    INFO(r->detail);
    CHECK(r->holds);
    CHECK(r->detail.rfind(at_good + " certificate for CN=good.test, valid until ", 0) == 0);
    CHECK(Has(r->detail, " days), covers good.test, chain verified"));
  }
  {  // without a name the address must be covered (an IP subjectAltName)
    auto r = Run(Tls(good.port, "", ca));
    REQUIRE(r);
    INFO(r->detail);
    CHECK(r->holds);
    CHECK(Has(r->detail, "covers 127.0.0.1, chain verified"));
  }
  {  // a name the certificate does not cover: names what it covers
    auto r = Run(Tls(good.port, "bad.test", ca));
    REQUIRE(r);
    INFO(r->detail);
    CHECK_FALSE(r->holds);
    CHECK(Has(r->detail, "does not cover name bad.test (it covers: good.test, www.good.test, 127.0.0.1)"));
    CHECK_FALSE(Has(r->detail, "not verified"));
  }
  {  // the private CA is not trusted unless ca_file says so
    auto r = Run(Tls(good.port, "good.test", ""));
    REQUIRE(r);
    INFO(r->detail);
    CHECK_FALSE(r->holds);
    CHECK(Has(r->detail, "chain not verified: unable to get local issuer certificate (issuer CN=Reconcile Test CA)"));
  }
  {  // two days left: not enough for the default 30, enough for 1
    auto r = Run(Tls(soon.port, "soon.test", ca));
    REQUIRE(r);
    INFO(r->detail);
    CHECK_FALSE(r->holds);
    // 2 days, or 1 day and 23:59:59 once a second has passed since openssl signed it.
    CHECK((Has(r->detail, "(2 days): expires in 2 days, needs 30") ||
           Has(r->detail, "(1 day): expires in 1 day, needs 30")));
    AttrMap thirty = Tls(soon.port, "soon.test", ca);
    thirty["min_days_valid"] = std::int64_t{30};
    auto r30 = Run(thirty);
    REQUIRE(r30);
    CHECK_FALSE(r30->holds);
    CHECK(Has(r30->detail, ", needs 30"));  // the day count may tick over between the two
    AttrMap one = Tls(soon.port, "soon.test", ca);
    one["min_days_valid"] = std::int64_t{1};
    auto r1 = Run(one);
    REQUIRE(r1);
    INFO(r1->detail);
    CHECK(r1->holds);
  }
  {  // self-signed, even for the right name: not verified
    auto r = Run(Tls(self.port, "good.test", ca));
    REQUIRE(r);
    INFO(r->detail);
    CHECK_FALSE(r->holds);
    CHECK(Has(r->detail, "chain not verified: self-signed certificate (issuer CN=good.test)"));
    CHECK_FALSE(Has(r->detail, "does not cover"));
  }
  {  // kind http over TLS: the private CA trusted only through ca_file (s_server -www answers 200)
    AttrMap http{{"kind", std::string("http")}, {"url", "https://" + at_good + "/"}};
    auto without = Run(http);
    REQUIRE(without);
    INFO(without->detail);
    CHECK_FALSE(without->holds);
    CHECK(Has(without->detail, "certificate"));
    http["ca_file"] = ca;
    auto with = Run(http);
    REQUIRE(with);
    INFO(with->detail);
    CHECK(with->holds);
  }
  {  // a server that went away does not hold yet; it is not an error
    int port = good.port;
    good.Stop();
    auto r = Run(Tls(port, "good.test", ca));
    REQUIRE(r);
    CHECK_FALSE(r->holds);
    CHECK(r->detail == at_good + " does not accept connections: Connection refused");
  }
}

TEST_CASE("tls: nothing listening does not hold; a ca_file that cannot be read is an error") {
  int port = FreePort();
  auto refused = Run(Tls(port, "good.test", ""));
  REQUIRE(refused);
  CHECK_FALSE(refused->holds);
  CHECK(refused->detail == "127.0.0.1:" + std::to_string(port) + " does not accept connections: Connection refused");

  auto no_ca = Run(Tls(port, "good.test", "/nonexistent/ca.pem"));
  REQUIRE_FALSE(no_ca);
  CHECK(no_ca.error().message.rfind("cannot load ca_file /nonexistent/ca.pem: ", 0) == 0);
}

TEST_CASE("tls: a port that does not speak TLS does not hold, with the handshake's reason") {
  TempDir dir;
  int port = FreePort();
  Server http(
      {"python3", "-m", "http.server", std::to_string(port), "--bind", "127.0.0.1", "--directory", dir.path.string()},
      port, dir.path / "http.log");
  auto r = Run(Tls(port, "good.test", ""));
  REQUIRE(r);
  INFO(r->detail);
  CHECK_FALSE(r->holds);
  CHECK(r->detail.rfind("127.0.0.1:" + std::to_string(port) + " TLS handshake failed: ", 0) == 0);
}

TEST_CASE("tls: from a host is refused, as before (only tcp and command run from a host)") {
  HostConfig web;
  web.name = "web";
  web.address = "192.0.2.1";
  auto r = Run(Tls(443, "good.test", ""), &web);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "check.t: only tcp and command checks run from a host; leave out host for a tls check");
}
