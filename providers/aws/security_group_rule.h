// `security_group_rule`: one port's (or port range's) ingress in one security group, from the
// CIDRs in `sources`. The resource owns only the CIDRs it names at some stage: a source
// another rule of the group allows, even on the same port, is never read as its own nor
// revoked. Moving from some sources to others authorizes the new ones and revokes the old
// ones it named; ensure = "absent" revokes every one it names; a rollback puts them back.
#pragma once

#include "engine/provider.h"
#include "providers/aws/aws_api.h"

namespace reconcile::aws {

TypeSchema SecurityGroupRuleType();
Result<State> ProbeSecurityGroupRule(QueryClient& ec2, const Target& target);
Result<State> ApplySecurityGroupRule(QueryClient& ec2, const Change& change);

}  // namespace reconcile::aws
