// nginx_site against the lab's real nginx: a maintenance page, then proxying to a real
// upstream (the lab's supervised web server), a change nginx refuses (the old site keeps
// serving, the file is put back byte for byte), and retirement. Checked with HTTP requests.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "tests/support/temp_dir.h"
#include "tests/support/http_get.h"
#include "tests/support/lab_env.h"
#include "tests/support/test_world.h"

using namespace reconcile;

namespace {

constexpr int kSitePort = 18085;

struct Site {
  std::map<std::string, std::string> env = LabEnv();
  TestWorld w;

  std::string Spec(const std::string& extra) {
    return std::string("version = 1\nname = \"ngx\"\n[nginx_site.shop]\nhost = \"local\"\n") +
           "server_names = [\"shop.test\", \"www.shop.test\"]\nlisten = \"127.0.0.1:" + std::to_string(kSitePort) +
           "\"\nconfig_dir = \"" + env.at("NGINX_SITES") + "\"\nnginx = [\"nginx\", \"-p\", \"" +
           env.at("NGINX_PREFIX") + "\", \"-e\", \"stderr\", \"-c\", \"" + env.at("NGINX_CONF") + "\"]\n" + extra;
  }

  std::string Apply(const std::string& extra, Plan* planned = nullptr) { return w.PlanAndApply(Spec(extra), planned); }

  std::string File() { return ReadText(env.at("NGINX_SITES") + "/reconcile-shop.conf"); }
};

// nginx reloads asynchronously (new workers take the new config a moment after -s reload
// returns): ask until the answer is the expected one, for up to 3 s.
int StatusSoon(const std::string& host, int want) {
  int got = 0;
  for (int i = 0; i < 150; ++i) {
    got = HttpGet(kSitePort, host).status;
    if (got == want) break;
    usleep(20000);
  }
  return got;
}

}  // namespace

TEST_CASE("maintenance page, then the real upstream, then a refused change, then retirement") {
  Site site;
  CHECK(site.Apply("maintenance = true\nmaintenance_page = \"<h1>Back at noon</h1>\"\n") == "");
  CHECK(StatusSoon("shop.test", 503) == 503);
  HttpAnswer down = HttpGet(kSitePort, "shop.test");
  CHECK(down.body == "<h1>Back at noon</h1>");
  CHECK(site.File().find("# Managed by reconcile (nginx_site.shop)") == 0);

  // Converged: the probe reads back exactly what was written.
  Plan again;
  CHECK(site.Apply("maintenance = true\nmaintenance_page = \"<h1>Back at noon</h1>\"\n", &again) == "");
  CHECK_FALSE(again.HasChanges());

  CHECK(site.Apply("maintenance = false\nproxy_pass = \"http://127.0.0.1:18090\"\n") == "");
  CHECK(StatusSoon("www.shop.test", 200) == 200);  // the lab's python http.server, through nginx

  // nginx refuses this; the site that was serving keeps serving, from the same file. (A size
  // is a size to validate, which "lots" is not; only nginx knows 999999999999999 GiB overflows.)
  std::string before = site.File();
  std::string error =
      site.Apply("proxy_pass = \"http://127.0.0.1:18090\"\nclient_max_body_size = \"999999999999999g\"\n");
  CHECK(error.find("nginx -t refused the new config for nginx_site.shop; the previous file is back and nginx was "
                   "not reloaded:\n") == 0);
  CHECK(error.find("\"client_max_body_size\" directive invalid value") != std::string::npos);
  CHECK(site.File() == before);
  // (StatusSoon: an old worker from the reload before may still take a request or two.)
  CHECK(StatusSoon("shop.test", 200) == 200);

  // Hand edits are seen, and overwritten by the next apply.
  {
    std::ofstream out(site.env.at("NGINX_SITES") + "/reconcile-shop.conf", std::ios::app);
    out << "# someone was here\n";
  }
  Plan edited;
  CHECK(site.Apply("maintenance = false\nproxy_pass = \"http://127.0.0.1:18090\"\n", &edited) == "");
  CHECK(edited.HasChanges());
  CHECK(site.File() == before);

  CHECK(site.Apply("ensure = \"absent\"\n") == "");
  CHECK(site.File().empty());
  CHECK(StatusSoon("shop.test", 0) == 0);  // nothing listens on the site's port any more
}
