#include "providers/nginx/nginx_site_provider.h"
#include "providers/ssh/host_connections.h"

#include <map>

#include "providers/file/remote_files.h"
#include "providers/nginx/site_config.h"

namespace reconcile {

namespace {

std::string SitePath(const Target& t) {
  std::string name = t.address.substr(t.address.find('.') + 1);
  return StringAttr(t.desired, "config_dir", "/etc/nginx/conf.d") + "/reconcile-" + name + ".conf";
}

std::vector<std::string> NginxCommand(const Target& t, std::initializer_list<const char*> extra) {
  std::vector<std::string> argv = {"nginx"};
  if (auto it = t.desired.find("nginx"); it != t.desired.end()) {
    if (const auto* l = std::get_if<StringList>(&it->second)) argv = *l;
  }
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
  TypeSchema t;
  t.name = "nginx_site";
  t.doc = "A site served by nginx: names, listen address, upstream, maintenance page, HTTPS redirect, TLS.";
  t.uses_host = true;
  AttrSchema names{"server_names", AttrType::kStringList, "host names the site answers to (alternate hosts too)"};
  names.required = true;
  names.unordered = true;
  AttrSchema config_dir{"config_dir", AttrType::kString, "folder nginx includes site files from (default /etc/nginx/conf.d)"};
  config_dir.identity = true;
  AttrSchema nginx{"nginx", AttrType::kArgv, "the nginx command on the host (default [\"nginx\"])"};
  nginx.setting = true;
  t.attrs = {names,
             {"listen", AttrType::kString, "address and port to listen on (default 80, or 443 with TLS)"},
             {"proxy_pass", AttrType::kString, "upstream URL requests are passed to"},
             {"maintenance", AttrType::kBool, "answer every request with 503 and the maintenance page"},
             {"maintenance_page", AttrType::kString, "HTML of the maintenance page (a plain default otherwise)"},
             {"redirect_https", AttrType::kBool, "answer every request with a redirect to https://"},
             {"tls_certificate", AttrType::kString, "certificate file on the host (turns on TLS)"},
             {"tls_certificate_key", AttrType::kString, "private key file on the host"},
             {"client_max_body_size", AttrType::kString, "largest request body, e.g. \"50m\""},
             config_dir,
             nginx};
  return {t};
}

std::vector<ProbePart> NginxSiteProvider::ProbeOn(RemoteShell& shell, const HostConfig&,
                                                  std::vector<const Target*> targets, std::vector<Result<State>*> out) {
  std::vector<std::string> paths;
  for (const Target* t : targets) paths.push_back(SitePath(*t));
  ProbePart part{file::ProbeFilesScript(paths), [paths, targets, out, where = shell.Describe()](const Result<CommandResult>& r) {
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
    Status restored = prior.exists ? shell.WriteFile({path, prior.content, prior.mode, {}, {}})
                                   : file::RemoveRemoteFile(shell, path);
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
