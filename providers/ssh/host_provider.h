// The base of every provider that acts on hosts: they share the run's connections (one per
// host, the local machine included).
#pragma once

#include <memory>

#include "engine/provider.h"
#include "providers/ssh/ssh_session.h"

namespace reconcile {

class HostProvider : public Provider {
 public:
  explicit HostProvider(std::shared_ptr<HostConnections> hosts) : hosts_(std::move(hosts)) {}

 protected:
  std::shared_ptr<HostConnections> hosts_;
};

}  // namespace reconcile
