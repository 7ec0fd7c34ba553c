// check kind "http" with `resolve` and `headers`: the new server checked under the production
// name before DNS moves (curl's --resolve), with headers whose secret values come from the
// environment when the check runs and are never shown. Against a real virtual-host server
// this test starts (tests/testdata/vhost_server.py); the production name does not resolve
// here, as it would not yet point at the new server.
#include <doctest/doctest.h>

#include <cstdlib>

#include "providers/check/check_provider.h"
#include "tests/support/local_server.h"
#include "tests/support/temp_dir.h"
#include "tests/support/after_header.h"
#include "tests/support/test_world.h"

using namespace reconcile;
using after_header::FirstError;
using after_header::Loads;
using namespace reconcile::testing;

namespace {

Result<CheckResult> Run(AttrMap attrs) {
  CheckProvider p;
  TypeSchema schema = p.Types()[0];
  attrs["kind"] = std::string("http");
  return p.Check(Target{"check.new_server", &schema, std::move(attrs), nullptr, nullptr});
}

// An http check; `extra` (one line) is line 7.
std::string Check(const std::string& extra, const std::string& url = "https://shop.example.test/health") {
  return "[check.c]\nkind = \"http\"\nurl = \"" + url + "\"\n" + extra + "\n";
}

const char* kName = "shop.example.test";
const char* kToken = "s3cret-token-for-the-new-server";

}  // namespace

TEST_CASE("resolve reaches the new server under the production name; without it the name does not resolve") {
  TempDir dir;
  int port = FreePort();
  Server server({"python3", RECONCILE_TESTDATA "/vhost_server.py", std::to_string(port), kName}, port,
                dir.path / "server.log");
  std::string url = std::string("http://") + kName + ":" + std::to_string(port) + "/health";
  std::string resolve = std::string(kName) + ":" + std::to_string(port) + ":127.0.0.1";

  auto without = Run({{"url", url}});
  REQUIRE(without);
  CHECK_FALSE(without->holds);
  CHECK_MESSAGE(without->detail.find("resolve") != std::string::npos, without->detail);

  auto with = Run({{"url", url}, {"resolve", resolve}, {"body_contains", std::string("hello from shop")}});
  REQUIRE_MESSAGE(with, (with ? "" : with.error().message));
  CHECK_MESSAGE(with->holds, with->detail);
  CHECK(with->detail == "HTTP 200 from " + url);

  // The address alone reaches the server, but not the site: the name is what is checked.
  auto by_address = Run({{"url", "http://127.0.0.1:" + std::to_string(port) + "/health"}});
  REQUIRE(by_address);
  CHECK_FALSE(by_address->holds);
  CHECK(by_address->detail.find("HTTP 421") == 0);

  // An entry for another port than the URL's is refused, not silently unused.
  auto elsewhere = Run({{"url", url}, {"resolve", std::string(kName) + ":443:127.0.0.1"}});
  REQUIRE_FALSE(elsewhere);
  CHECK(elsewhere.error().message.find("but the url asks for shop.example.test:" + std::to_string(port)) !=
        std::string::npos);
}

TEST_CASE("headers: a Host to reach the site by address, a token from the environment, never shown") {
  TempDir dir;
  int port = FreePort();
  Server server({"python3", RECONCILE_TESTDATA "/vhost_server.py", std::to_string(port), kName, kToken}, port,
                dir.path / "server.log");
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/health";
  StringList host_only = {std::string("Host: ") + kName};
  StringList with_token = {std::string("Host: ") + kName, "X-Token: env:RECONCILE_TEST_SHOP_TOKEN"};

  ::unsetenv("RECONCILE_TEST_SHOP_TOKEN");
  auto no_token = Run({{"url", url}, {"headers", host_only}});
  REQUIRE(no_token);
  CHECK_FALSE(no_token->holds);
  CHECK(no_token->detail.find("HTTP 403") == 0);

  auto unset = Run({{"url", url}, {"headers", with_token}});
  REQUIRE_FALSE(unset);
  CHECK(unset.error().message ==
        "the header X-Token reads the environment variable RECONCILE_TEST_SHOP_TOKEN, which is not set (export it)");

  ::setenv("RECONCILE_TEST_SHOP_TOKEN", kToken, 1);
  auto ok = Run({{"url", url}, {"headers", with_token}});
  REQUIRE_MESSAGE(ok, (ok ? "" : ok.error().message));
  CHECK_MESSAGE(ok->holds, ok->detail);
  CHECK(ok->detail.find(kToken) == std::string::npos);

  ::setenv("RECONCILE_TEST_SHOP_TOKEN", "wrong", 1);
  auto wrong = Run({{"url", url}, {"headers", with_token}});
  REQUIRE(wrong);
  CHECK_FALSE(wrong->holds);

  // A line break in the secret would write a header of its own: refused, the value unshown.
  ::setenv("RECONCILE_TEST_SHOP_TOKEN", "x\r\nX-Admin: yes", 1);
  auto injected = Run({{"url", url}, {"headers", with_token}});
  REQUIRE_FALSE(injected);
  CHECK(injected.error().message.find("holds a line break") != std::string::npos);
  CHECK(injected.error().message.find("X-Admin") == std::string::npos);
  ::unsetenv("RECONCILE_TEST_SHOP_TOKEN");
}

TEST_CASE("resolve is checked at validate time, against the url too") {
  CHECK(Loads(Check("resolve = \"shop.example.test:443:192.0.2.10\"")));
  CHECK(Loads(Check("resolve = \"SHOP.example.test:443:[2001:db8::1],192.0.2.10\"")));
  CHECK(Loads(Check("resolve = \"shop.example.test:8080:127.0.0.1\"", "http://shop.example.test:8080/")));
  CHECK(FirstError(Check("resolve = \"shop.example.test:https:192.0.2.10\"")) ==
        "7:11: error: attribute 'resolve' of check.c: has the port \"https\", which is not 1 to 65535; write "
        "\"NAME:PORT:ADDRESS\", such as \"shop.example.com:443:192.0.2.10\" (an IPv6 address in brackets, several "
        "separated by commas)");
  CHECK(FirstError(Check("resolve = \"shop.example.test\"")).find("is not NAME:PORT:ADDRESS") != std::string::npos);
  CHECK(FirstError(Check("resolve = \"shop.example.test:192.0.2.10\"")).find("is not NAME:PORT:ADDRESS") !=
        std::string::npos);
  CHECK(FirstError(Check("resolve = \"shop.example.test:443:new-server\"")).find("has the address \"new-server\"") !=
        std::string::npos);
  CHECK(FirstError(Check("resolve = \"shop.example.test:443:2001:db8::1\"")).find("has the address") !=
        std::string::npos);
  CHECK(FirstError(Check("resolve = \"-x:443:127.0.0.1\"")).find("which is not a host name") != std::string::npos);
  CHECK(FirstError(Check("resolve = \"shop.example.test:0:127.0.0.1\"")).find("not 1 to 65535") != std::string::npos);
  CHECK(FirstError(Check("resolve = \"www.example.test:443:127.0.0.1\"")) ==
        "7:11: error: attribute 'resolve' of check.c: is for www.example.test:443, but the url asks for "
        "shop.example.test:443, so curl would never use it; name the url's host and port");
  CHECK(FirstError(Check("resolve = \"shop.example.test:80:127.0.0.1\""))
            .find("the url asks for shop.example.test:443") != std::string::npos);
}

TEST_CASE("headers are checked at validate time: a name, a value, no line breaks, secrets from env: only") {
  CHECK(Loads(Check("headers = [\"Host: shop.example.test\", \"X-Token: env:SHOP_TOKEN\", \"Accept:text/plain\"]")));
  CHECK(FirstError(Check("headers = [\"Host: a\", \"X-Evil: a\\r\\nX-Admin: yes\"]")) ==
        "7:23: error: attribute 'headers' of check.c: holds a control character (a line break); write \"Name: "
        "value\", such as \"Host: shop.example.com\" or \"X-Token: env:SHOP_TOKEN\"");
  CHECK(FirstError(Check("headers = [\"Host shop.example.test\"]")).find("has no ':'") != std::string::npos);
  CHECK(FirstError(Check("headers = [\"X Token: a\"]")).find("has the name \"X Token\"") != std::string::npos);
  CHECK(FirstError(Check("headers = [\": a\"]")).find("has the name \"\"") != std::string::npos);
  CHECK(FirstError(Check("headers = [\"X-Token:  \"]")).find("has no value") != std::string::npos);
  CHECK(FirstError(Check("headers = [\"X-Token: env:1X\"]")).find("not an environment variable's name") !=
        std::string::npos);
  CHECK(FirstError(Check("headers = [\"X-Token: file:/etc/token\"]")).find("from the environment only") !=
        std::string::npos);
  CHECK(FirstError("[check.c]\nkind = \"tcp\"\naddress = \"a\"\nport = 1\nheaders = [\"Host: a\"]\n")
            .find("'headers' does not apply to a check of kind 'tcp'") != std::string::npos);
}
