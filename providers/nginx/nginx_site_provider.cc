#include "providers/nginx/nginx_site_provider.h"
#include "providers/ssh/host_connections.h"

#include <map>

#include "providers/file/remote_files.h"
#include "providers/nginx/site_config.h"
#include "providers/nginx/site_syntax.h"

namespace reconcile {

namespace {

std::string SitePath(const Target& t) {
  std::string name = t.address.substr(t.address.find('.') + 1);
  Value dir = DesiredValue(t, "config_dir");
  return (AsString(dir) ? *AsString(dir) : "") + "/reconcile-" + name + ".conf";
}

std::vector<std::string> NginxCommand(const Target& t, std::initializer_list<const char*> extra) {
  std::vector<std::string> argv;
  if (Value v = DesiredValue(t, "nginx"); const auto* l = std::get_if<StringList>(&v)) argv = *l;
  for (const char* e : extra) argv.push_back(e);
  return argv;
}

State ToState(const Target& t, const file::FileInfo& info, std::string* error) {
  State s;
  if (!info.exists) return s;
  s.exists = true;
  auto parsed = nginx::ParseSite(t.address, info.content);
  if (!parsed) {
    *error = SitePath(t) + ": " + parsed.error().message;
    return s;
  }
  // A hand-edited body shows as every attribute differing, so apply rewrites the file.
  if (!parsed->hand_edited) s.attrs = parsed->attrs;
  return s;
}

}  // namespace

std::vector<TypeSchema> NginxSiteProvider::Types() const {
  return {{
      .name = "nginx_site",
      .doc = "A site served by nginx: names, listen address, upstream, maintenance page, HTTPS redirect, TLS.",
      // Values are pasted into nginx directives: each is checked against nginx's syntax
      // (site_syntax.h), so none can end a directive or open a block of its own.
      .attrs =
          {
              // clang-format off
              {.name = "server_names", .type = AttrType::kStringList, .required = true, .unordered = true,
               .check = nginx::CheckServerName,
               .doc = "host names the site answers to (alternate hosts too): \"www.example.com\", "
                      "\"*.example.com\", \".example.com\", \"www.example.*\" or \"_\"; no regular expressions"},
              {.name = "listen", .type = AttrType::kString, .check = nginx::CheckListen,
               .doc = "port or address:port to listen on (default 80, or 443 with TLS): \"8080\", "
                      "\"127.0.0.1:80\", \"[::]:443\", then flags such as \"default_server\", \"http2\", "
                      "\"reuseport\", \"ipv6only=on\""},
              {.name = "proxy_pass", .type = AttrType::kString, .check = nginx::CheckProxyPass,
               .doc = "upstream URL requests are passed to: http:// or https://, a host, an optional :port and "
                      "/path"},
              {.name = "maintenance", .type = AttrType::kBool,
               .doc = "answer every request with 503 and the maintenance page"},
              {.name = "maintenance_page", .type = AttrType::kString, .check = nginx::CheckPage,
               .doc = "HTML of the maintenance page (a plain default otherwise); no '$' (write &#36;)"},
              {.name = "redirect_https", .type = AttrType::kBool,
               .doc = "answer every request with a redirect to https://"},
              {.name = "tls_certificate", .type = AttrType::kString, .check = nginx::CheckPath,
               .doc = "certificate file on the host (turns on TLS); an absolute path"},
              {.name = "tls_certificate_key", .type = AttrType::kString, .check = nginx::CheckPath,
               .doc = "private key file on the host; an absolute path"},
              {.name = "client_max_body_size", .type = AttrType::kString, .check = nginx::CheckSize,
               .doc = "largest request body: \"50m\", \"1g\", \"512k\""},
              {.name = "config_dir", .type = AttrType::kString, .identity = true, .check = nginx::CheckPath,
               .default_value = "/etc/nginx/conf.d",
               .doc = "folder nginx includes site files from; an absolute path"},
              {.name = "nginx", .type = AttrType::kArgv, .setting = true, .default_value = "nginx",
               .doc = "the nginx command on the host"},
              // clang-format on
          },
      .uses_host = true,
  }};
}

std::vector<ProbePart> NginxSiteProvider::ProbeOn(RemoteShell& shell, const HostConfig&,
                                                  std::vector<const Target*> targets, std::vector<Result<State>*> out) {
  std::vector<std::string> paths;
  for (const Target* t : targets) paths.push_back(SitePath(*t));
  ProbePart part{file::ProbeFilesScript(paths),
                 [paths, targets, out, where = shell.Describe()](const Result<CommandResult>& r) {
                   auto infos = file::ParseProbeResult(r, paths, where);
                   for (std::size_t k = 0; k < paths.size(); ++k) {
                     if (!infos) {
                       *out[k] = infos.error();
                     } else if (!(*infos)[k]) {
                       *out[k] = (*infos)[k].error();
                     } else {
                       std::string error;
                       State s = ToState(*targets[k], *(*infos)[k], &error);
                       *out[k] = error.empty() ? Result<State>(s) : Result<State>(Error{error});
                     }
                   }
                 }};
  return {std::move(part)};
}

Result<State> NginxSiteProvider::Apply(const Change& change) {
  const Target& t = change.target;
  // Refused here too, before the file is written: the loader is not the only way in (a plan
  // saved by an older reconcile).
  if (change.action != Action::kDelete)
    if (Status s = nginx::CheckSite(t.address, t.desired); !s) return Error{s.message()};
  auto shell_or = hosts_->For(*t.host);
  if (!shell_or) return shell_or.error();
  RemoteShell& shell = **shell_or;
  std::string path = SitePath(t);
  auto before = file::ReadRemoteFiles(shell, {path});
  if (!before) return before.error();
  if (!(*before)[0]) return (*before)[0].error();
  const file::FileInfo prior = *(*before)[0];

  Status written = change.action == Action::kDelete
                       ? file::RemoveRemoteFile(shell, path)
                       : shell.WriteFile({path, nginx::RenderSite(t.address, t.desired), "0644", {}, {}});
  if (!written) return Error{written.message()};

  auto test = shell.Run(NginxCommand(t, {"-t"}));
  if (!test || test->exit_code != 0) {
    // nginx refuses the new config: the previous file goes back and nothing is reloaded.
    Status restored =
        prior.exists ? shell.WriteFile({path, prior.content, prior.mode, {}, {}}) : file::RemoveRemoteFile(shell, path);
    std::string why = test ? test->err : test.error().message;
    return Error{"nginx -t refused the new config for " + t.address + "; " +
                 (restored ? "the previous file is back and nginx was not reloaded"
                           : "putting the previous file back ALSO failed (" + restored.message() + ")") +
                 ":\n" + why};
  }
  auto reload = shell.Run(NginxCommand(t, {"-s", "reload"}));
  if (!reload) return reload.error();
  if (reload->exit_code != 0) return Error{"nginx -s reload failed for " + t.address + ":\n" + reload->err};
  if (change.action == Action::kDelete) return State{};
  auto after = file::ReadRemoteFiles(shell, {path});
  if (!after) return after.error();
  if (!(*after)[0]) return (*after)[0].error();
  std::string error;
  State s = ToState(t, *(*after)[0], &error);
  if (!error.empty()) return Error{error};
  return s;
}

}  // namespace reconcile
