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
  return {{
      .name = "check",
      .doc = "A condition that must hold before a stage is complete; polled until true or timed out.",
      .attrs =
          {
              // clang-format off
              {.name = "kind", .type = AttrType::kString, .required = true,
               .one_of = {"http", "tcp", "dns", "tls", "command", "wait"},
               .doc = "what is checked"},
              {.name = "url", .type = AttrType::kString, .required = true, .kinds = {"http"}, .check = CheckUrl,
               .doc = "the URL requested: http:// or https://"},
              {.name = "expect_status", .type = AttrType::kInt, .kinds = {"http"}, .default_value = "200",
               .doc = "the HTTP status expected"},
              {.name = "body_contains", .type = AttrType::kString, .kinds = {"http"},
               .doc = "text the response body must contain"},
              {.name = "resolve", .type = AttrType::kString, .kinds = {"http"}, .check = CheckResolve,
               .doc = "\"NAME:PORT:ADDRESS\": the url's host and port reached at ADDRESS, with its name (curl's "
                      "--resolve), so a new server is checked before DNS moves"},
              {.name = "headers", .type = AttrType::kStringList, .kinds = {"http"}, .check = CheckHeader,
               .doc = "request headers, \"Name: value\"; a value env:NAME is read from the environment when the "
                      "check runs, never shown"},
              {.name = "address", .type = AttrType::kString, .required = true, .kinds = {"tcp", "tls"},
               .doc = "host name or IP address connected to"},
              {.name = "port", .type = AttrType::kInt, .required = true, .kinds = {"tcp", "tls"}, .doc = "TCP port"},
              {.name = "expect", .type = AttrType::kString, .one_of = {"open", "closed"}, .kinds = {"tcp"},
               .doc = "whether the port must be open or closed"},
              {.name = "name", .type = AttrType::kString, .kinds = {"dns", "tls"},
               .doc = "the DNS name asked for (tls: the name the certificate must cover)"},
              {.name = "type", .type = AttrType::kString, .kinds = {"dns"}, .default_value = "A",
               .doc = "the record type asked for"},
              {.name = "values", .type = AttrType::kStringList, .required = true, .unordered = true, .kinds = {"dns"},
               .doc = "the values every answer must hold"},
              {.name = "servers", .type = AttrType::kStringList, .kinds = {"dns"},
               .doc = "the servers that must all answer, \"host:port\""},
              {.name = "zone", .type = AttrType::kString, .kinds = {"dns"},
               .doc = "the zone: names relative to it; with server, its NS set is asked"},
              {.name = "server", .type = AttrType::kString, .kinds = {"dns"},
               .doc = "the zone's primary, asked for the NS set when servers is not given"},
              {.name = "ns_port", .type = AttrType::kInt, .kinds = {"dns"}, .default_value = "53",
               .doc = "the port the NS set's servers answer on"},
              {.name = "min_days_valid", .type = AttrType::kInt, .kinds = {"tls"}, .default_value = "30",
               .doc = "days the certificate must stay valid"},
              {.name = "ca_file", .type = AttrType::kString, .kinds = {"tls", "http"},
               .doc = "PEM file of CA certificates trusted besides the system's"},
              {.name = "command", .type = AttrType::kArgv, .required = true, .kinds = {"command"},
               .doc = "command whose exit status 0 means the check holds"},
              {.name = "shell", .type = AttrType::kBool, .kinds = {"command"},
               .doc = "`command` is one shell line (a string), not a list of arguments"},
              {.name = "duration", .type = AttrType::kDuration, .required = true, .kinds = {"wait"},
               .check = CheckWaitDuration,
               .doc = "how long to wait from when the check starts in this run (at most 24h)"},
              {.name = "timeout", .type = AttrType::kDuration, .default_value = "5m", .default_from = WaitTimeout,
               .doc = "how long to keep trying (for a wait, its duration and a minute)"},
              {.name = "interval", .type = AttrType::kDuration, .default_value = "5s", .default_from = WaitInterval,
               .doc = "time between tries (for a wait, 1s)"},
              // clang-format on
          },
      .uses_host = true,  // tcp and command checks may run from a host
      .host_optional = true,
      .is_check = true,
      .variant_attr = "kind",
      .shell_attr = "shell",
      .poll_timeout_attr = "timeout",
      .poll_interval_attr = "interval",
      .summary = Summary,
  }};
}

void CheckProvider::Probe(std::span<const Target* const> targets, std::vector<Result<State>>* out) {
  // Checks have no state to read; the planner never asks. Answer plainly if it ever does.
  out->assign(targets.size(), Error{"checks have no state to probe"});
}

Result<State> CheckProvider::Apply(const Change&) { return Error{"checks are run, not applied"}; }

}  // namespace reconcile

namespace reconcile {

Result<CheckResult> CheckProvider::Check(const Target& target) {
  // The kinds read every attribute that has a default as set: Desired() filled them in, and
  // so does this for a target built without it.
  AttrMap attrs = target.desired;
  if (target.type) FillDefaults(*target.type, &attrs);
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
  return Error{target.address + ": checks of kind '" + kind +
               "' are not available in this build yet (http, tcp, "
               "dns, tls, command and wait are)"};
}

}  // namespace reconcile
