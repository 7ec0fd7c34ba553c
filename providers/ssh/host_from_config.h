// A [host.NAME] with what the operator's ssh config says of its address filled in where the
// spec is silent (HostConfig::ssh_config), ProxyJump included as a chain of jump hosts: the
// host reached as `ssh ADDRESS` would reach it.
#pragma once

#include <string>
#include <vector>

#include "engine/provider.h"

namespace reconcile {

// `notes` gets what the config says that is not followed (Match blocks, say).
Result<HostConfig> WithSshConfig(const HostConfig& host, std::vector<std::string>* notes = nullptr);

// How errors name a host: "web (deploy@10.0.0.5:22 via bastion)".
std::string DescribeHost(const HostConfig& host);

}  // namespace reconcile
