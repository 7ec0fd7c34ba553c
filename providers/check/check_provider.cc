#include "providers/check/check_provider.h"

#include "providers/check/dns_check.h"
#include "providers/check/http_check.h"
#include "providers/check/tcp_check.h"
#include "providers/check/tls_check.h"
#include "providers/ssh/host_connections.h"
#include "providers/ssh/local_shell.h"

namespace reconcile {

namespace {

// "http https://shop/health", "tcp 10.0.0.5:5432 closed": what a plan says a check looks at.
std::string Summary(const AttrMap& attrs) {
  auto get = [&](const char* key) -> std::string {
    auto it = attrs.find(key);
    if (it == attrs.end()) return "";
    if (const auto* s = AsString(it->second)) return *s;
    return FormatValue(it->second);
  };
  std::string kind = get("kind");
  std::string what;
  if (kind == "http") what = get("url");
  else if (kind == "tcp" || kind == "tls") what = get("address") + ":" + get("port");
  else if (kind == "dns") what = get("name");
  else if (kind == "command" && attrs.count("command")) what = FormatCommand(attrs.at("command"));
  else if (kind == "wait") what = get("duration");
  std::string expect = kind == "tcp" ? get("expect") : "";
  return kind + " " + what + (expect.empty() ? "" : " " + expect);
}

}  // namespace

CheckProvider::CheckProvider(std::shared_ptr<HostConnections> hosts)
    : hosts_(hosts ? std::move(hosts) : std::make_shared<HostConnections>()) {}

std::vector<TypeSchema> CheckProvider::Types() const {
  TypeSchema t;
  t.name = "check";
  t.doc = "A condition that must hold before a stage is complete; polled until true or timed out.";
  t.is_check = true;
  t.uses_host = t.host_optional = true;  // tcp and command checks may run from a host
  auto attr = [](std::string name, AttrType type, std::string doc, std::vector<std::string> kinds,
                 bool required = false) {
    AttrSchema a{std::move(name), type, std::move(doc)};
    a.kinds = std::move(kinds);
    a.required = required;
    return a;
  };
  AttrSchema kind{"kind", AttrType::kString, "what is checked"};
  kind.required = true;
  kind.one_of = {"http", "tcp", "dns", "tls", "command", "wait"};
  AttrSchema expect = attr("expect", AttrType::kString, "whether the port must be open or closed", {"tcp"});
  expect.one_of = {"open", "closed"};
  AttrSchema values = attr("values", AttrType::kStringList, "the values every answer must hold", {"dns"}, true);
  values.unordered = true;
  AttrSchema duration = attr("duration", AttrType::kDuration,
                             "how long to wait from when the check starts in this run (at most 24h)", {"wait"}, true);
  duration.check = CheckWaitDuration;
  AttrSchema timeout = attr("timeout", AttrType::kDuration,
                            "how long to keep trying (default 5m; for a wait, its duration and a minute)", {});
  timeout.default_from = WaitTimeout;
  AttrSchema interval = attr("interval", AttrType::kDuration, "time between tries (default 5s; for a wait, 1s)", {});
  interval.default_from = WaitInterval;
  AttrSchema resolve = attr("resolve", AttrType::kString,
                            "\"NAME:PORT:ADDRESS\": the url's host and port reached at ADDRESS, with its name "
                            "(curl's --resolve), so a new server is checked before DNS moves",
                            {"http"});
  resolve.check = CheckResolve;
  AttrSchema headers = attr("headers", AttrType::kStringList,
                            "request headers, \"Name: value\"; a value env:NAME is read from the environment "
                            "when the check runs, never shown",
                            {"http"});
  headers.check = CheckHeader;
  t.attrs = {
      kind,
      attr("url", AttrType::kString, "the URL requested", {"http"}, true),
      attr("expect_status", AttrType::kInt, "the HTTP status expected (default 200)", {"http"}),
      attr("body_contains", AttrType::kString, "text the response body must contain", {"http"}),
      resolve,
      headers,
      attr("address", AttrType::kString, "host name or IP address connected to", {"tcp", "tls"}, true),
      attr("port", AttrType::kInt, "TCP port", {"tcp", "tls"}, true),
      expect,
      attr("name", AttrType::kString, "the DNS name asked for (tls: the name the certificate must cover)",
           {"dns", "tls"}),
      attr("type", AttrType::kString, "the record type asked for (default A)", {"dns"}),
      values,
      attr("servers", AttrType::kStringList, "the servers that must all answer, \"host:port\"", {"dns"}),
      attr("zone", AttrType::kString, "the zone: names relative to it; with server, its NS set is asked", {"dns"}),
      attr("server", AttrType::kString, "the zone's primary, asked for the NS set when servers is not given", {"dns"}),
      attr("ns_port", AttrType::kInt, "the port the NS set's servers answer on (default 53)", {"dns"}),
      attr("min_days_valid", AttrType::kInt, "days the certificate must stay valid (default 30)", {"tls"}),
      attr("ca_file", AttrType::kString, "PEM file of CA certificates trusted besides the system's", {"tls", "http"}),
      attr("command", AttrType::kArgv, "command whose exit status 0 means the check holds", {"command"}, true),
      attr("shell", AttrType::kBool, "`command` is one shell line (a string), not a list of arguments", {"command"}),
      duration,
      timeout,
      interval,
  };
  t.variant_attr = "kind";
  t.shell_attr = "shell";
  t.poll_timeout_attr = "timeout";
  t.poll_interval_attr = "interval";
  t.summary = Summary;
  return {t};
}

void CheckProvider::Probe(std::span<const Target* const> targets, std::vector<Result<State>>* out) {
  // Checks have no state to read; the planner never asks. Answer plainly if it ever does.
  out->assign(targets.size(), Error{"checks have no state to probe"});
}

Result<State> CheckProvider::Apply(const Change&) { return Error{"checks are run, not applied"}; }

}  // namespace reconcile

namespace reconcile {

Result<CheckResult> CheckProvider::Check(const Target& target) {
  const auto& attrs = target.desired;
  const std::string& kind = std::get<std::string>(attrs.at("kind"));
  const bool remote = target.host && !target.host->local;
  if (remote && kind != "tcp" && kind != "command")
    return Error{target.address + ": only tcp and command checks run from a host; leave out host for a " + kind +
                 " check"};
  RemoteShell* shell = nullptr;
  LocalShell local;
  if (remote) {
    auto s = hosts_->For(*target.host);
    if (!s) return s.error();
    shell = *s;
  }
  if (kind == "http") return CheckHttp(attrs);
  if (kind == "tcp") return remote ? CheckTcpFrom(*shell, attrs) : CheckTcp(attrs);
  if (kind == "dns") return CheckDns(attrs);
  if (kind == "tls") return CheckTls(attrs);
  if (kind == "wait") {
    auto d = WaitDuration(std::get<std::string>(attrs.at("duration")));
    if (!d) return Error{target.address + ": the duration is not a wait of at most 24h"};
    return waits_.Check(target.address, *d);
  }
  if (kind == "command") {
    // As argv (a string is a shell line only because the spec wrote one).
    const Value& cmd = attrs.at("command");
    std::vector<std::string> argv = std::holds_alternative<StringList>(cmd)
                                        ? std::get<StringList>(cmd)
                                        : std::vector<std::string>{"sh", "-c", std::get<std::string>(cmd)};
    auto r = (shell ? shell : static_cast<RemoteShell*>(&local))->Read(argv);
    if (!r) return r.error();
    std::string tail = r->err.empty() ? r->out : r->err;
    if (tail.size() > 200) tail = "…" + tail.substr(tail.size() - 200);
    return CheckResult{r->exit_code == 0, "exit " + std::to_string(r->exit_code) + (tail.empty() ? "" : ": " + tail)};
  }
  return Error{target.address + ": checks of kind '" + kind + "' are not available in this build yet (http, tcp, "
               "dns, tls, command and wait are)"};
}

}  // namespace reconcile
