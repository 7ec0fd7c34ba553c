// Values that reconcile writes into another program's language — nginx directives, zone-file
// records, file names — are refused at validate time, at their file:line:col, when they
// would say more than the operator wrote: `x.example; location /leak/ { alias /etc/; } #` as
// a server name once served the host's /etc, and `10 mail.example. ; comment` as an MX value
// was cut at the ';'. The forms nginx and ldns take are still accepted.
#include <doctest/doctest.h>

#include <string>

#include "providers/dns/dns_wire.h"
#include "providers/nginx/site_config.h"
#include "providers/nginx/site_syntax.h"
#include "tests/support/after_header.h"
#include "tests/support/test_world.h"

using namespace reconcile;
using after_header::FirstError;
using after_header::Loads;

namespace {

// A site on line 4 of the spec; `extra` (one line) is line 8.
std::string Site(const std::string& extra, const std::string& names = "[\"app.example.test\"]") {
  return "[nginx_site.web]\nhost = \"local\"\nstage = \"one\"\nserver_names = " + names + "\n" + extra + "\n";
}

const std::string kDirective = ": error: attribute '";

}  // namespace

TEST_CASE("nginx server names: a name, a wildcard or _, nothing that writes directives") {
  CHECK(FirstError(Site("", "[\"x.example; location /leak/ { alias /etc/; } #\"]")) ==
        "7:17: error: attribute 'server_names' of nginx_site.web: holds ';', which ends an nginx directive; a "
        "server name is a host name (\"www.example.com\"), a wildcard (\"*.example.com\", \".example.com\", "
        "\"www.example.*\") or \"_\"");
  // The second item: its own column.
  CHECK(FirstError(Site("", "[\"ok.example\", \"y.example\\nlocation /x/ {}\"]"))
            .rfind("7:31: error: attribute 'server_names' of nginx_site.web: holds a line break", 0) == 0);
  for (const char* bad : {"a{b", "a}b", "a#b", "a'b", "a\\\"b", "a$host", "a b", "a\\tb", "a\\\\b"})
    CHECK_MESSAGE(FirstError(Site("", std::string("[\"") + bad + "\"]")).find(kDirective) != std::string::npos, bad);
  CHECK(FirstError(Site("", "[\"~^www\\\\.example$\"]")).find("regular-expression names (~…) are not supported") !=
        std::string::npos);
  CHECK(FirstError(Site("", "[\"\"]")).find("is empty") != std::string::npos);
  CHECK(FirstError(Site("", "[\"*.a.*\"]")).find("is not a server name") != std::string::npos);
  CHECK(FirstError(Site("", "[\"café.example\"]")).find("non-ASCII") != std::string::npos);
  CHECK(Loads(Site("",
                   "[\"www.example.com\", \"*.example.com\", \".example.org\", \"www.example.*\", \"_\", "
                   "\"localhost\", \"my_host.lan\", \"192.0.2.10\"]")));
}

TEST_CASE("nginx listen: port or address:port, then known flags") {
  CHECK(FirstError(Site("listen = \"80; include /etc/passwd\"")) ==
        "8:10: error: attribute 'listen' of nginx_site.web: holds ';', which ends an nginx directive; listen is a "
        "port (\"80\"), address:port (\"127.0.0.1:8080\", \"[::]:443\", \"*:80\") or unix:/path, then flags "
        "separated by spaces: ssl, http2, quic, default_server, reuseport, proxy_protocol, deferred, bind, "
        "ipv6only=on|off, backlog=N, rcvbuf=SIZE, sndbuf=SIZE, fastopen=N, so_keepalive=on|off|IDLE:INTVL:CNT");
  CHECK(FirstError(Site("listen = \"80\\ninclude /x\"")).find("holds a line break") != std::string::npos);
  CHECK(FirstError(Site("listen = \"80 root=/etc\"")).find("'root=/etc' is not a listen flag") != std::string::npos);
  CHECK(FirstError(Site("listen = \"70000\"")).find("'70000' is not a port or address:port") != std::string::npos);
  CHECK(FirstError(Site("listen = \"80  ssl\"")).find("has an empty word") != std::string::npos);
  CHECK(FirstError(Site("listen = \"\"")).find("is empty") != std::string::npos);
  for (const char* good : {"80", "127.0.0.1:8080", "[::]:443 ipv6only=on", "*:80 default_server reuseport", "[::1]",
                           "localhost:8080", "unix:/run/app.sock", "443 http2 backlog=511 so_keepalive=30m::10",
                           "0.0.0.0:80 proxy_protocol deferred bind rcvbuf=64k fastopen=256"})
    CHECK_MESSAGE(Loads(Site(std::string("listen = \"") + good + "\"")), good);
}

TEST_CASE("nginx proxy_pass: an http(s) URL with a host, port and path") {
  CHECK(FirstError(Site("proxy_pass = \"http://127.0.0.1:8000/;deny all\"")) ==
        "8:14: error: attribute 'proxy_pass' of nginx_site.web: holds ';', which ends an nginx directive; proxy_pass "
        "is http:// or https:// then a host, an optional :port and an optional /path (\"http://127.0.0.1:8000\", "
        "\"https://old.example.com/app/\"), or http://unix:/path/to.sock:");
  CHECK(FirstError(Site("proxy_pass = \"http://$host\"")).find("holds '$'") != std::string::npos);
  CHECK(FirstError(Site("proxy_pass = \"ftp://a\"")).find("does not start with http:// or https://") !=
        std::string::npos);
  CHECK(FirstError(Site("proxy_pass = \"http://a:99999\"")).find("is not a URL") != std::string::npos);
  CHECK(FirstError(Site("proxy_pass = \"http://a/%zz\"")).find("is not a URL") != std::string::npos);
  for (const char* good :
       {"http://127.0.0.1:8000", "https://old.example.com/app/", "http://[::1]:8080/x?y=1&z=(2)", "http://backend",
        "http://unix:/run/app.sock:", "http://unix:/run/app.sock:/api/", "http://a/%20b/~c"})
    CHECK_MESSAGE(Loads(Site(std::string("proxy_pass = \"") + good + "\"")), good);
}

TEST_CASE("nginx certificate, key and config folder: absolute paths without spaces") {
  CHECK(FirstError(Site("tls_certificate = \"/etc/ssl/a.pem; ssl_certificate_key /x\"")) ==
        "8:19: error: attribute 'tls_certificate' of nginx_site.web: holds ';', which ends an nginx directive; it "
        "must be an absolute path of letters, digits and . _ - / @ + , = : % ~ (no spaces)");
  CHECK(FirstError(Site("tls_certificate_key = \"relative.key\"")) ==
        "8:23: error: attribute 'tls_certificate_key' of nginx_site.web: is not an absolute path; it must be an "
        "absolute path of letters, digits and . _ - / @ + , = : % ~ (no spaces)");
  CHECK(FirstError(Site("tls_certificate_key = \"/k{ey}\"")).find("holds '{'") != std::string::npos);
  CHECK(FirstError(Site("config_dir = \"/etc/nginx conf\""))
            .find("attribute 'config_dir' of nginx_site.web: holds a "
                  "space") != std::string::npos);
  CHECK(Loads(Site("tls_certificate = \"/etc/letsencrypt/live/a.example/fullchain.pem\"")));
}

TEST_CASE("nginx client_max_body_size: a size") {
  CHECK(FirstError(Site("client_max_body_size = \"50m;x\"")) ==
        "8:24: error: attribute 'client_max_body_size' of nginx_site.web: holds ';', which ends an nginx directive; "
        "a size is a number of bytes, optionally with k, m or g (\"8k\", \"50m\", \"1g\")");
  CHECK(FirstError(Site("client_max_body_size = \"50 m\"")).find("holds a space") != std::string::npos);
  CHECK(FirstError(Site("client_max_body_size = \"lots\"")).find("is not a size") != std::string::npos);
  for (const char* good : {"50m", "1G", "8k", "1048576", "0"})
    CHECK_MESSAGE(Loads(Site(std::string("client_max_body_size = \"") + good + "\"")), good);
}

TEST_CASE("nginx maintenance page: any text, quoted, but no variables or control characters") {
  CHECK(FirstError(Site("maintenance_page = \"costs $5\"")) ==
        "8:20: error: attribute 'maintenance_page' of nginx_site.web: holds '$', which nginx reads as a variable "
        "even in a quoted string; write &#36; for a dollar sign");
  CHECK(FirstError(Site("maintenance_page = \"a\\u0001b\"")).find("holds a control character") != std::string::npos);
  CHECK(Loads(Site("maintenance_page = \"<p class='x'>We're {back} soon; # \\\"really\\\" \\\\o/</p>\\n\"")));
}

TEST_CASE("nginx values in a later stage are checked too") {
  CHECK(FirstError(Site("[nginx_site.web.at.two]\nlisten = \"81;\"")) ==
        "9:10: error: attribute 'listen' of nginx_site.web at stage two: holds ';', which ends an nginx directive; "
        "listen is a port (\"80\"), address:port (\"127.0.0.1:8080\", \"[::]:443\", \"*:80\") or unix:/path, then "
        "flags separated by spaces: ssl, http2, quic, default_server, reuseport, proxy_protocol, deferred, bind, "
        "ipv6only=on|off, backlog=N, rcvbuf=SIZE, sndbuf=SIZE, fastopen=N, so_keepalive=on|off|IDLE:INTVL:CNT");
}

TEST_CASE("a value from a variable is checked as what it became") {
  TestWorld w;
  LoadOptions options;
  options.vars["name"] = "x.example; location /leak/ { alias /etc/; } #";
  LoadResult r = w.Load(std::string(kHeader) + Site("", "[\"${vars.name}\"]"), options);
  REQUIRE(r.spec == nullptr);
  CHECK(TestWorld::Errors(r).find("spec.toml:7:17: error: attribute 'server_names' of nginx_site.web: holds ';'") !=
        std::string::npos);
}

TEST_CASE("a value from another resource is checked once the reference is substituted") {
  TestWorld w;
  LoadResult r = w.Load(
      std::string(kHeader) +
      "[mem_item.src]\nkey = \"src\"\nstage = \"one\"\nvalue = \"x.example; location /leak/ { alias /etc/; } #\"\n" +
      Site("", "[\"${mem_item.src.value}\"]"));
  INFO(TestWorld::Errors(r));
  REQUIRE(r.spec != nullptr);
  const Resource* site = r.spec->Find("nginx_site.web");
  REQUIRE(site != nullptr);
  auto d = Desired(*r.spec, *site, 0, false, nullptr);
  REQUIRE_FALSE(d);
  CHECK(d.error().message ==
        "spec.toml:11:16: attribute 'server_names' of nginx_site.web, once its references are substituted: holds ';', "
        "which ends an nginx directive; a server name is a host name (\"www.example.com\"), a wildcard "
        "(\"*.example.com\", \".example.com\", \"www.example.*\") or \"_\"");
}

TEST_CASE("the provider refuses a bad site before it writes the file") {
  AttrMap attrs{{"server_names", StringList{"x.example;"}}, {"listen", std::string("80")}};
  Status s = nginx::CheckSite("nginx_site.web", attrs);
  REQUIRE_FALSE(s);
  CHECK(s.message().rfind("nginx_site.web: attribute 'server_names' holds ';'", 0) == 0);
  CHECK(s.message().find("the site file was not written") != std::string::npos);
  attrs["server_names"] = StringList{"x.example"};
  CHECK(nginx::CheckSite("nginx_site.web", attrs));
  attrs["proxy_pass"] = std::string("http://a/\n}");
  CHECK_FALSE(nginx::CheckSite("nginx_site.web", attrs));
}

TEST_CASE("resource names: letters, digits, '-' and '_' (they become file names)") {
  CHECK(FirstError("[nginx_site.\"../x\\ny\"]\nhost = \"local\"\nserver_names = [\"a\"]\n") ==
        "4:13: error: the name of a [nginx_site.NAME] may hold letters, digits, '-' and '_' only");
  CHECK(FirstError("[file.\"a b\"]\nhost = \"local\"\npath = \"/tmp/x\"\n").find("may hold letters") !=
        std::string::npos);
}

namespace {

std::string Records(const std::string& type, const std::string& values) {
  return "[provider.dns.lab]\nkind = \"rfc2136\"\nserver = \"127.0.0.1:53\"\n[dns_record.r]\n"
         "zone = \"example.test.\"\nname = \"@\"\ntype = \"" +
         type + "\"\nvalues = " + values + "\n";
}

}  // namespace

TEST_CASE("DNS values: nothing ldns would read differently from what was written") {
  CHECK(FirstError(Records("MX", "[\"10 mail.example. ; comment\"]")) ==
        "11:11: error: attribute 'values' of dns_record.r: holds ';' outside quotes, where a zone-file comment "
        "starts: everything after it would be dropped; remove it (a comment belongs in the spec: # …), or quote or "
        "escape it (\\;) if it is data");
  CHECK(FirstError(Records("MX", "[\"10 a.example.\", \"20 b.example.\\n@ A 192.0.2.1\"]")) ==
        "11:28: error: attribute 'values' of dns_record.r: holds a control character (a line break or a tab), which "
        "ends a zone-file record or field; separate fields with spaces, and write other bytes inside quotes as \\DDD");
  CHECK(FirstError(Records("MX", "[\"10\\tmail.example.\"]")).find("holds a control character") != std::string::npos);
  CHECK(FirstError(Records("CAA", "[\"0 issue (x)\"]")).find("holds a parenthesis outside quotes") !=
        std::string::npos);
  CHECK(FirstError(Records("TXT", "[\"\\\"unclosed\"]")).find("opens a quote it never closes") != std::string::npos);
  CHECK(FirstError(Records("TXT", "[\"v=spf1\\n-all\"]")).find("holds a control character") != std::string::npos);
  CHECK(FirstError(Records("A", "[\"192.0.2.1 \\\\\"]")).find("lone backslash") != std::string::npos);
  // A TXT value not starting with a quote is its text, quoted whole: ';' is data there.
  CHECK(Loads(Records("TXT", "[\"v=DMARC1; p=none\", \"\\\"k=rsa; p=abc\\\" \\\"two\\\"\"]")));
  CHECK(Loads(Records("CAA", "[\"0 issue \\\"letsencrypt.org; validationmethods=dns-01\\\"\"]")));
  CHECK(Loads(Records("MX", "[\"10 mail.example.test.\", \"20 backup\"]")));
}

TEST_CASE("DNS zone and name: one word") {
  CHECK(FirstError("[provider.dns.lab]\nkind = \"rfc2136\"\nserver = \"127.0.0.1:53\"\n[dns_record.r]\n"
                   "zone = \"example.test. ; x\"\nname = \"@\"\ntype = \"A\"\nvalues = [\"192.0.2.1\"]\n") ==
        "8:8: error: attribute 'zone' of dns_record.r: is not one domain name: it holds a space, control character, "
        "';', parenthesis or quote");
}

TEST_CASE("what the DNS check lets through, ldns reads as written") {
  auto txt = dns::CanonicalValue("TXT", "v=DMARC1; p=none", "example.test.");
  REQUIRE(txt);
  CHECK(*txt == "\"v=DMARC1; p=none\"");
  auto caa = dns::CanonicalValue("CAA", "0 issue \"letsencrypt.org; validationmethods=dns-01\"", "example.test.");
  REQUIRE(caa);
  CHECK(caa->find("validationmethods=dns-01") != std::string::npos);
  auto two = dns::CanonicalValue("TXT", "\"k=rsa; p=abc\" \"two\"", "example.test.");
  REQUIRE(two);
  CHECK(*two == "\"k=rsa; p=abc\" \"two\"");
  // What it refuses ldns would have cut short.
  auto mx = dns::CanonicalValue("MX", "10 mail.example. ; comment", "example.test.");
  REQUIRE(mx);
  CHECK(*mx == "10 mail.example.");
}
