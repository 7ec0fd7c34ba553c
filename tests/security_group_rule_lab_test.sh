#!/usr/bin/env bash
# security_group_rule through the binary on the lab's moto (signature checking on): 443 open
# to developers' networks, then to everyone; 80-81 to developers, then revoked; a source on
# 443 that someone else added, and their rule on 22, never touched; drift made with the AWS
# CLI shown by plan; rollback to the developers' stage; every step read back with the AWS CLI.
# Usage: security_group_rule_lab_test.sh PATH_TO_RECONCILE SOURCE_DIR   (RECONCILE_LAB_ENV set)
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" security-group-rule
. "${RECONCILE_LAB_ENV:?run through ctest, which starts the lab}"
export AWS_LAB_ACCESS_KEY AWS_LAB_SECRET_KEY  # for the specs' env:NAME
cd "$work" || exit 1

sources() { # sources FROM_PORT: the group's CIDRs on it, sorted, one line
  awscli ec2 describe-security-groups --group-ids "$sg" \
    --query "SecurityGroups[0].IpPermissions[?FromPort==\`$1\`].IpRanges[].CidrIp" --output text | tr '\t' '\n' |
    sort | tr '\n' ' '
}
run() { "$bin" "$@" >out 2>err; }

sg=$(awscli ec2 create-security-group --group-name "web-$$" --description "web tier" --query GroupId --output text)
awscli ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 443 --cidr 192.0.2.50/32 >/dev/null &&
  awscli ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 22 --cidr 192.0.2.0/24 >/dev/null &&
  ok || bad "lab setup: group $sg and their rules"
testdata web >web.toml

run plan web.toml && ok || bad "plan: $(cat err)"
grep -q "+ security_group_rule.https" out && grep -q "198.51.100.7/32" out && ok || bad "plan shows 443: $(cat out)"
run apply web.toml --through developers --yes && ok || bad "apply developers: $(cat err)"
[ "$(sources 443)" = "192.0.2.50/32 198.51.100.7/32 203.0.113.0/24 " ] && ok || bad "443 after developers: $(sources 443)"
[ "$(sources 80)" = "203.0.113.0/24 " ] && ok || bad "80-81 after developers: $(sources 80)"
awscli ec2 describe-security-groups --group-ids "$sg" --query 'SecurityGroups[0].IpPermissions[].IpRanges[].Description' \
  --output text | grep -q "developers first" && ok || bad "description written"

run apply web.toml --yes && ok || bad "apply everyone: $(cat err)"
[ "$(sources 443)" = "0.0.0.0/0 192.0.2.50/32 " ] && ok || bad "443 after everyone (theirs kept): $(sources 443)"
[ "$(sources 80)" = "" ] && ok || bad "80-81 revoked: $(sources 80)"
[ "$(sources 22)" = "192.0.2.0/24 " ] && ok || bad "their 22 untouched: $(sources 22)"
run plan web.toml && ! grep -q "security_group_rule" out && ok || bad "plan after apply: $(cat out)"

# Drift: 0.0.0.0/0 revoked by hand shows in the plan, and the next apply puts it back.
awscli ec2 revoke-security-group-ingress --group-id "$sg" --protocol tcp --port 443 --cidr 0.0.0.0/0 >/dev/null
run plan web.toml && grep -q "security_group_rule.https" out && grep -q "0.0.0.0/0" out && ok || bad "drift: $(cat out)"
run apply web.toml --yes && [ "$(sources 443)" = "0.0.0.0/0 192.0.2.50/32 " ] && ok || bad "drift put right: $(cat err)"

run rollback web.toml --to developers --yes && ok || bad "rollback to developers: $(cat err)"
[ "$(sources 443)" = "192.0.2.50/32 198.51.100.7/32 203.0.113.0/24 " ] && ok || bad "443 rolled back: $(sources 443)"
[ "$(sources 80)" = "203.0.113.0/24 " ] && ok || bad "80-81 rolled back: $(sources 80)"
[ "$(sources 22)" = "192.0.2.0/24 " ] && ok || bad "their 22 still untouched: $(sources 22)"

# Bad input is refused at validate time, naming where.
sed 's|"0.0.0.0/0"|"0.0.0.0/33"|' web.toml >bad.toml
run plan bad.toml && bad "a bad CIDR planned" || ok
grep -q "bad.toml:[0-9]*:[0-9]*: .*CIDR form" err && ok || bad "bad CIDR: $(cat err)"
sed 's|^port = 443|protocol = "all"\nport = 443|' web.toml >all.toml
run plan all.toml && bad "protocol all with a port planned" || ok
grep -q 'protocol "all" takes no port' err && ok || bad "all with a port: $(cat err)"
finish
