// The AWS types, each in its own file: what a provider call on one resource does. Probe reads
// the resource's state; Apply makes the change and returns the state read back.
//
// `elastic_ip`: which instance an Elastic IP (named by its public address or its allocation
// id) is associated with, "" for none. Moving it is a re-association; a rollback moves it
// back. reconcile never allocates or releases one: a released address is gone for good.
//
// `rds_instance`: an RDS DB instance, made, modified (ApplyImmediately) and deleted (with a
// final snapshot unless skip_final_snapshot), each waited for until RDS is done. Its master
// password is write_only: AWS never returns it.
//
// `rds_snapshot`: a manual snapshot of an RDS instance, taken once (apply waits until it is
// available) and never deleted by reconcile: a rollback past it keeps it, as it is the way
// back. One that already exists under the identifier is adopted when it is of the instance.
//
// `security_group_rule`: one port's (or port range's) ingress in one security group, from the
// CIDRs in `sources`. The resource owns only the CIDRs it names at some stage: a source
// another rule of the group allows, even on the same port, is never read as its own nor
// revoked. Moving from some sources to others authorizes the new ones and revokes the old
// ones it named; ensure = "absent" revokes every one it names; a rollback puts them back.
//
// `iam_user`: an IAM user's path and the one inline policy reconcile manages on it (named
// "reconcile"), compared as JSON. Deleting it deletes first what IAM wants gone (access keys,
// inline policies, login profile, managed policy attachments, group memberships). A rollback
// re-creates it from the spec, path and policy only: the probe keeps what a delete would lose
// as the state's private data, and the Review marks such a delete irreversible, naming it.
#pragma once

#include "engine/plan/diff.h"
#include "engine/provider.h"
#include "providers/aws/aws_api.h"

namespace reconcile::aws {

TypeSchema ElasticIpType();
Result<State> ProbeElasticIp(QueryClient& ec2, const Target& target);
Result<State> ApplyElasticIp(QueryClient& ec2, const Change& change);

// RDS's rule for instance and snapshot identifiers (an AttrSchema::check).
std::string RdsIdentifierCheck(const std::string& value, const AttrMap&);

TypeSchema RdsInstanceType();
Result<State> ProbeRdsInstance(QueryClient& rds, const Target& target);
Result<State> ApplyRdsInstance(QueryClient& rds, const Change& change);
void ReviewRdsInstance(const State& prior, const State& desired, Diff* diff);

TypeSchema RdsSnapshotType();
Result<State> ProbeRdsSnapshot(QueryClient& rds, const Target& target);
Result<State> ApplyRdsSnapshot(QueryClient& rds, const Change& change);
void ReviewRdsSnapshot(Diff* diff);

TypeSchema SecurityGroupRuleType();
Result<State> ProbeSecurityGroupRule(QueryClient& ec2, const Target& target);
Result<State> ApplySecurityGroupRule(QueryClient& ec2, const Change& change);

TypeSchema IamUserType();
Result<State> ProbeIamUser(QueryClient& iam, const Target& target);
Result<State> ApplyIamUser(QueryClient& iam, const Change& change);
void ReviewIamUser(const State& prior, Diff* diff);

}  // namespace reconcile::aws
