// The `nginx_site` type: one server block per site, in a file reconcile owns
// (CONFIG_DIR/reconcile-NAME.conf). Every change is checked with `nginx -t` before a reload;
// if nginx refuses it, the previous file is put back, nothing is reloaded, and the step
// fails with nginx's own message — the old site keeps serving.
#pragma once

#include "engine/provider.h"
#include "providers/ssh/host_provider.h"

namespace reconcile {

class NginxSiteProvider : public HostProvider {
 public:
  using HostProvider::HostProvider;
  std::string name() const override { return "nginx"; }
  std::vector<TypeSchema> Types() const override;
  std::vector<ProbePart> ProbeOn(RemoteShell& shell, const HostConfig& host, std::vector<const Target*> targets,
                                 std::vector<Result<State>*> out) override;
  Result<State> Apply(const Change& change) override;
};

}  // namespace reconcile
