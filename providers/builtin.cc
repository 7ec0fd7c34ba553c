#include "providers/builtin.h"

#include "providers/aws/aws_provider.h"

#include "providers/check/check_provider.h"
#include "providers/command/command_provider.h"
#include "providers/copy/host_copy_provider.h"
#include "providers/dns/dns_record_provider.h"
#include "providers/file/directory_provider.h"
#include "providers/file/file_provider.h"
#include "providers/firewall/firewall_provider.h"
#include "providers/nginx/nginx_site_provider.h"
#include "providers/postgres/postgres_provider.h"
#include "providers/s3/s3_provider.h"
#include "providers/service/service_provider.h"
#include "providers/ssh/host_connections.h"

namespace reconcile {

Status RegisterBuiltinProviders(Registry* registry, std::shared_ptr<HostConnections> hosts) {
  // One SSH connection per host for the whole run, shared by every provider that uses hosts.
  if (!hosts) hosts = std::make_shared<HostConnections>();
  if (Status s = registry->Add(std::make_unique<FileProvider>(hosts)); !s) return s;
  if (Status s = registry->Add(std::make_unique<DirectoryProvider>(hosts)); !s) return s;
  if (Status s = registry->Add(std::make_unique<NginxSiteProvider>(hosts)); !s) return s;
  if (Status s = registry->Add(std::make_unique<ServiceProvider>(hosts)); !s) return s;
  if (Status s = registry->Add(std::make_unique<CommandProvider>(hosts)); !s) return s;
  if (Status s = registry->Add(std::make_unique<FirewallProvider>(hosts)); !s) return s;
  if (Status s = registry->Add(std::make_unique<CheckProvider>(hosts)); !s) return s;
  if (Status s = registry->Add(std::make_unique<DnsRecordProvider>()); !s) return s;
  if (Status s = registry->Add(std::make_unique<S3Provider>()); !s) return s;
  if (Status s = registry->Add(NewAwsProvider()); !s) return s;
  if (Status s = registry->Add(std::make_unique<PostgresProvider>(hosts)); !s) return s;
  if (Status s = registry->Add(std::make_unique<HostCopyProvider>(hosts)); !s) return s;
  return Status::Ok();
}

}  // namespace reconcile
