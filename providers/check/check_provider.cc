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
              {.name = "kind",
               .type = AttrType::kString,
               .doc = "what is checked",
               .required = true,
               .one_of = {"http", "tcp", "dns", "tls", "command", "wait"}},
              {.name = "url",
               .type = AttrType::kString,
               .doc = "the URL requested",
               .required = true,
               .kinds = {"http"}},
              {.name = "expect_status",
               .type = AttrType::kInt,
               .doc = "the HTTP status expected",
               .kinds = {"http"},
               .default_value = "200"},
              {.name = "body_contains",
               .type = AttrType::kString,
               .doc = "text the response body must contain",
               .kinds = {"http"}},
              {.name = "resolve",
               .type = AttrType::kString,
               .doc = "\"NAME:PORT:ADDRESS\": the url's host and port reached at ADDRESS, with its name (curl's "
                      "--resolve), "
                      "so a new server is checked before DNS moves",
               .kinds = {"http"},
               .check = CheckResolve},
              {.name = "headers",
               .type = AttrType::kStringList,
               .doc = "request headers, \"Name: value\"; a value env:NAME is read from the environment when the check "
                      "runs, never shown",
               .kinds = {"http"},
               .check = CheckHeader},
              {.name = "address",
               .type = AttrType::kString,
               .doc = "host name or IP address connected to",
               .required = true,
               .kinds = {"tcp", "tls"}},
              {.name = "port", .type = AttrType::kInt, .doc = "TCP port", .required = true, .kinds = {"tcp", "tls"}},
              {.name = "expect",
               .type = AttrType::kString,
               .doc = "whether the port must be open or closed",
               .one_of = {"open", "closed"},
               .kinds = {"tcp"}},
              {.name = "name",
               .type = AttrType::kString,
               .doc = "the DNS name asked for (tls: the name the certificate must cover)",
               .kinds = {"dns", "tls"}},
              {.name = "type",
               .type = AttrType::kString,
               .doc = "the record type asked for",
               .kinds = {"dns"},
               .default_value = "A"},
              {.name = "values",
               .type = AttrType::kStringList,
               .doc = "the values every answer must hold",
               .required = true,
               .unordered = true,
               .kinds = {"dns"}},
              {.name = "servers",
               .type = AttrType::kStringList,
               .doc = "the servers that must all answer, \"host:port\"",
               .kinds = {"dns"}},
              {.name = "zone",
               .type = AttrType::kString,
               .doc = "the zone: names relative to it; with server, its NS set is asked",
               .kinds = {"dns"}},
              {.name = "server",
               .type = AttrType::kString,
               .doc = "the zone's primary, asked for the NS set when servers is not given",
               .kinds = {"dns"}},
              {.name = "ns_port",
               .type = AttrType::kInt,
               .doc = "the port the NS set's servers answer on",
               .kinds = {"dns"},
               .default_value = "53"},
              {.name = "min_days_valid",
               .type = AttrType::kInt,
               .doc = "days the certificate must stay valid",
               .kinds = {"tls"},
               .default_value = "30"},
              {.name = "ca_file",
               .type = AttrType::kString,
               .doc = "PEM file of CA certificates trusted besides the system's",
               .kinds = {"tls", "http"}},
              {.name = "command",
               .type = AttrType::kArgv,
               .doc = "command whose exit status 0 means the check holds",
               .required = true,
               .kinds = {"command"}},
              {.name = "shell",
               .type = AttrType::kBool,
               .doc = "`command` is one shell line (a string), not a list of arguments",
               .kinds = {"command"}},
              {.name = "duration",
               .type = AttrType::kDuration,
               .doc = "how long to wait from when the check starts in this run (at most 24h)",
               .required = true,
               .kinds = {"wait"},
               .check = CheckWaitDuration},
              {.name = "timeout",
               .type = AttrType::kDuration,
               .doc = "how long to keep trying (for a wait, its duration and a minute)",
               .default_value = "5m",
               .default_from = WaitTimeout},
              {.name = "interval",
               .type = AttrType::kDuration,
               .doc = "time between tries (for a wait, 1s)",
               .default_value = "5s",
               .default_from = WaitInterval},
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
