#!/usr/bin/env bash
# dns_record on Route 53 through the binary, on the lab's moto (signature checking on): an A
# record and an alias record made in one stage and changed in the next (the old TTL waited
# out), drift made with the AWS CLI shown by plan, a rollback putting both back; every step
# read back with the AWS CLI. A record someone changes after the stage was probed is refused
# (and a record beside it in the same batch still goes in); a wrong secret fails with AWS's
# code and no secret shown; alias attributes where they do not belong are refused.
# Usage: route53_lab_test.sh PATH_TO_RECONCILE SOURCE_DIR   (RECONCILE_LAB_ENV set)
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" route53
. "${RECONCILE_LAB_ENV:?run through ctest, which starts the lab}"
export AWS_LAB_ACCESS_KEY AWS_LAB_SECRET_KEY  # for the specs' env:NAME
cd "$work" || exit 1

# moto checks a body-less request's signature against its headers, so the AWS CLI's Route 53
# reads fail with checking on (reconcile sends x-amz-content-sha256 and is not affected):
# the CLI reads with checking off for a moment, and it is always turned back on.
auth() { curl -sS -X POST "$AWS_ENDPOINT/moto-api/reset-auth" -H 'Content-Type: text/plain' --data "$1" >/dev/null; }
trap 'auth 0; [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
# record NAME TYPE: "TTL VALUE…" (values sorted) or "alias TARGET ZONE_ID HEALTH"; "" when none.
record() {
  auth inf
  awscli route53 list-resource-record-sets --hosted-zone-id "$zid" --output json >rrsets.json
  auth 0
  jq -r --arg n "$1" --arg t "$2" '.ResourceRecordSets[] | select((.Name | ascii_downcase) == $n and .Type == $t) |
    if .AliasTarget then "alias \(.AliasTarget.DNSName) \(.AliasTarget.HostedZoneId) \(.AliasTarget.EvaluateTargetHealth)"
    else "\(.TTL) \([.ResourceRecords[].Value] | sort | join(" "))" end' rrsets.json
}
upsert() {  # NAME TTL VALUE: someone else's change, by the AWS CLI
  awscli route53 change-resource-record-sets --hosted-zone-id "$zid" --change-batch "{\"Changes\": [{\"Action\": \"UPSERT\",
    \"ResourceRecordSet\": {\"Name\": \"$1\", \"Type\": \"A\", \"TTL\": $2, \"ResourceRecords\": [{\"Value\": \"$3\"}]}}]}" >/dev/null
}
run() { "$bin" "$@" >out 2>err; }

zone="r53-$$-$RANDOM.example.org."
zid=$(awscli route53 create-hosted-zone --name "$zone" --caller-reference "ref-$zone" --query HostedZone.Id --output text)
zid=${zid#/hostedzone/}
[ -n "$zid" ] && ok || bad "create-hosted-zone: '$zid'"
cloudfront="alias d111111abcdef8.cloudfront.net. Z2FDTNDATAQYW2 false"
secret_var=AWS_LAB_SECRET_KEY testdata r53 >r53.toml

run plan r53.toml && ok || bad "plan: $(cat err)"
grep -q "+ dns_record.www" out && grep -q "+ dns_record.apex" out && grep -q "d111111abcdef8.cloudfront.net" out && ok ||
  bad "plan shows both records: $(cat out)"
run apply r53.toml --through one --yes && ok || bad "apply one: $(cat err)"
[ "$(record "www.$zone" A)" = "2 192.0.2.10 192.0.2.11" ] && ok || bad "www after one: $(record "www.$zone" A)"
[ "$(record "$zone" A)" = "$cloudfront" ] && ok || bad "apex alias after one: $(record "$zone" A)"

run apply r53.toml --yes && ok || bad "apply the rest: $(cat err)"
[ "$(record "www.$zone" A)" = "1 198.51.100.20" ] && ok || bad "www after two: $(record "www.$zone" A)"
[ "$(record "$zone" A)" = "alias www.$zone $zid true" ] && ok || bad "apex alias after two: $(record "$zone" A)"
grep -q "stage after waits .*dns_record.www changed in stage two .*old TTL (2s)" err && ok ||
  bad "the old TTL is waited out: $(cat err)"
"$bin" plan r53.toml --detailed-exitcode >out 2>&1 && ok || bad "plan after apply is empty: $(cat out)"

# Drift: someone points www elsewhere; the plan shows it, the next apply puts it right.
upsert "www.$zone" 1 203.0.113.5
run plan r53.toml && grep -q "dns_record.www" out && grep -q "203.0.113.5" out && ! grep -q "dns_record.apex" out &&
  ok || bad "drift in plan: $(cat out)"
run apply r53.toml --yes && [ "$(record "www.$zone" A)" = "1 198.51.100.20" ] && ok ||
  bad "drift put right: $(cat err) $(record "www.$zone" A)"

run rollback r53.toml --to one --yes && ok || bad "rollback to one: $(cat err)"
[ "$(record "www.$zone" A)" = "2 192.0.2.10 192.0.2.11" ] && ok || bad "www rolled back: $(record "www.$zone" A)"
[ "$(record "$zone" A)" = "$cloudfront" ] && ok || bad "apex alias rolled back: $(record "$zone" A)"
"$bin" plan r53.toml --stage one --detailed-exitcode >out 2>&1 && ok || bad "stage one as planned: $(cat out)"

# Changed between the stage's probe and its change: refused, the other's value kept; the
# record beside it in the same batch goes in.
upsert "race.$zone" 60 192.0.2.50
cat >meddle.sh <<SH
AWS_LAB_ACCESS_KEY=$AWS_LAB_ACCESS_KEY AWS_LAB_SECRET_KEY=$AWS_LAB_SECRET_KEY AWS_REGION=$AWS_REGION AWS_ENDPOINT=$AWS_ENDPOINT
$(declare -f awscli upsert)
zid=$zid
upsert race.$zone 60 203.0.113.99
SH
testdata race >race.toml
run apply race.toml --yes && bad "a record changed since the plan was overwritten" || ok
grep -q "dns_record.race: race.$zone A changed since the plan" err && ok || bad "refusal said: $(cat err)"
[ "$(record "race.$zone" A)" = "60 203.0.113.99" ] && ok || bad "the other's change kept: $(record "race.$zone" A)"
[ "$(record "calm.$zone" A)" = "60 198.51.100.51" ] && ok || bad "the record beside it applied: $(record "calm.$zone" A)"

# A wrong secret: AWS's code, and no secret in the output or the journal.
mkdir wrong && cd wrong || exit 1
export WRONG_SECRET=not-the-secret
secret_var=WRONG_SECRET testdata r53 >r53.toml
run plan r53.toml && bad "a wrong secret planned" || ok
grep -q "SignatureDoesNotMatch" err && ok || bad "wrong secret: $(cat err)"
grep -rq "not-the-secret\|$AWS_LAB_SECRET_KEY" out err .reconcile ../.reconcile 2>/dev/null && bad "a secret was shown" || ok
cd .. || exit 1

# Alias attributes: not with values, an aws that names no [provider.aws.NAME], only on route53.
testdata misuse >misuse.toml
run validate misuse.toml && bad "misuse validated" || ok
grep -q "misuse.toml:10:7: error: unknown provider 'lba' in 'aws' of \[provider.dns.r53\], did you mean 'lab'?" err &&
  ok || bad "aws naming nothing: $(cat err)"
grep -q "misuse.toml:18:16: error: attribute 'alias_target' of dns_record.both: makes an alias record" err && ok ||
  bad "alias with values: $(cat err)"
testdata bind >bind.toml
run plan bind.toml && bad "an alias planned on rfc2136" || ok
grep -q "alias_target is for Route 53's alias records, and provider.dns.bind is kind = \"rfc2136\"" err && ok ||
  bad "alias on rfc2136: $(cat err)"
finish
