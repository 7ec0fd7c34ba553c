#!/usr/bin/env bash
# Crash safety on a real cutover: the ClearMyRecord launch (specs/clearmyrecord-launch.toml on
# the lab: PowerDNS, S3, PostgreSQL, and a host of its own with systemd and a firewall) is
# SIGKILLed right after every journal record of an apply and of a rollback, and the world is
# checked after the next run:
#   apply killed after record k, apply again          → the world after every stage
#   rollback --to ttl killed after its record j, then either
#     the same rollback again (twice: the second is empty) → the world after ttl, or
#     apply (the journal must say which stages the cut-off rollback undid), then the
#     runbook's rollback --to switch                   → the world after switch, media kept
# Nothing may be lost on the way: the media objects and the database's rows are counted.
# Usage: crash_lab_test.sh PATH_TO_RECONCILE SOURCE_DIR   (RECONCILE_LAB_ENV set; root)
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" crashlab
set -a
. "${RECONCILE_LAB_ENV:?run through ctest, which starts the lab}"
set +a
. "$src/examples/lab-secrets.sh"
export PDNS_API_KEY=$POWERDNS_API_KEY CMR_DB_PASSWORD_NEW="day2-$RANDOM$RANDOM"
. "$src/tests/systemd_host.sh" crash
. "$src/tests/specs_world.sh"
trap 'world_remove; sd_cleanup' EXIT
chmod o+x "$work"
cp "$src"/specs/clearmyrecord-launch*.toml "$work/"
cd "$work" || exit 1
world_up || { finish; exit 1; }
spec=clearmyrecord-launch.toml
# shellcheck disable=SC2207 # aws_vars: --var arguments, one word each
flags=(--env lab --var lab="$LAB_DIR" --var user="$SSH_USER" --var host_dir="$host_dir" $(aws_vars) --yes)
run() { "$bin" "$@" "${flags[@]}" >out 2>err; }
vars=("${flags[@]:0:${#flags[@]}-1}")  # without --yes, for plan and status
# killed N CMD…: CMD with a SIGKILL right after journal record N; true when it died so.
killed() {
  local n=$1
  shift
  crash_after "$n" "$bin" "$@" "${flags[@]}" >out 2>err
  [ $? -eq 137 ]
}
journal=$work/.reconcile/clearmyrecord-launch.lab.journal
records() { [ -f "$journal" ] && echo $(($(wc -l <"$journal") - 1)) || echo 0; }
reaches() { timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null; }
login() { PGPASSWORD=$1 psql -X -h 127.0.0.1 -p "$PG_PORT" -U cmr_app -d cmr -Atc "SELECT 1" >/dev/null 2>&1; }
media=$LAB_DIR/s3/data/cmr-media
# moto SERVICE VERSION ACTION [PARAMS]: one signed Query call to the lab's moto, its XML (curl's
# own SigV4: the AWS CLI's start-up, a few times a trial, would double the test's time). Not
# named aws: that would shadow the AWS CLI that lib.sh's awscli runs.
moto() {
  curl -s -X POST "$AWS_ENDPOINT/" --aws-sigv4 "aws:amz:$AWS_REGION:$1" --user "$AWS_LAB_ACCESS_KEY:$AWS_LAB_SECRET_KEY" \
    -H 'Content-Type: application/x-www-form-urlencoded' --data "Action=$3&Version=$2${4:+&$4}"
}
# r53 PATH: a read of Route 53's REST API, signed (moto wants the empty payload's hash said).
r53() {
  curl -s --aws-sigv4 "aws:amz:us-east-1:route53" --user "$AWS_LAB_ACCESS_KEY:$AWS_LAB_SECRET_KEY" \
    -H "x-amz-content-sha256: $(printf '' | sha256sum | cut -d' ' -f1)" "$AWS_ENDPOINT/2013-04-01/$1"
}
cmr_zone=$(r53 "hostedzonesbyname?dnsname=$CMR_OLD_DOMAIN" | grep -o '<Id>/hostedzone/[^<]*' | head -1)
cmr_zone=${cmr_zone#<Id>/hostedzone/}
redirect() { r53 "hostedzone/$cmr_zone/rrset" | grep -o '<DNSName>[^<]*' | sed 's/<DNSName>//'; }

# The world as the launch sees it, one line a fact (the AWS side read from moto).
world() {
  echo "www $(dig +noall +answer @127.0.0.1 -p 15353 cmr-www.example.test CNAME | awk '{print $2, $5}')"
  if [ -d "$media" ]; then
    echo "media bucket, $(cd "$media" && find . -type f -name '*._S3rver_object' | sort | tr '\n' ' ')"
  else
    echo "media none"
  fi
  echo "snapshot $(moto rds 2014-10-31 DescribeDBSnapshots "DBInstanceIdentifier=cmr-db&SnapshotType=manual" |
    grep -q '<DBSnapshotIdentifier>cmr-before-launch-' && echo taken || echo none)"
  echo "rds public $(moto rds 2014-10-31 DescribeDBInstances DBInstanceIdentifier=cmr-db |
    grep -o '<PubliclyAccessible>[a-z]*' | sed 's/.*>//')"
  echo "5432 from $(moto ec2 2016-11-15 DescribeSecurityGroups "GroupId.1=$CMR_DB_SG" | grep -o '<cidrIp>[^<]*' | sed 's/.*>//')"
  echo "iam user $(moto iam 2010-05-08 GetUser UserName=heroku-media-sync | grep -q '<UserName>' && echo there || echo gone)"
  echo "redirect $(redirect)"
  echo "clock $(in_sd systemctl is-active clock)"
  echo "port $(reaches 198.51.100.2 5432 && echo open || echo closed)"
  echo "login $(login "$CMR_DB_PASSWORD_NEW" && echo new) $(login launch-old && echo old)"
  echo "rows $(psql_lab -d cmr -At -c 'SELECT count(*) FROM expungements')"
}
# same WHAT WANT: the world is WANT.
same() {
  local now
  now=$(world)
  if [ "$now" = "$2" ]; then ok; else bad "$1: the world differs"; diff <(echo "$2") <(echo "$now") | sed 's/^/    /'; fi
}
# The launch's world before it starts, by hand: what a first apply finds. (www's TTL starts
# at 1 s, not the world's 4, so the wait the ttl stage's change asks for is short.)
reset() {
  rm -rf "$work/.reconcile" "$media"
  local snap
  for snap in $(moto rds 2014-10-31 DescribeDBSnapshots "DBInstanceIdentifier=cmr-db&SnapshotType=manual" |
    grep -o '<DBSnapshotIdentifier>[^<]*' | sed 's/.*>//'); do
    moto rds 2014-10-31 DeleteDBSnapshot "DBSnapshotIdentifier=$snap" >/dev/null
  done
  moto rds 2014-10-31 ModifyDBInstance "DBInstanceIdentifier=cmr-db&PubliclyAccessible=true&ApplyImmediately=true" >/dev/null
  moto ec2 2016-11-15 AuthorizeSecurityGroupIngress "GroupId=$CMR_DB_SG&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=5432&IpPermissions.1.ToPort=5432&IpPermissions.1.IpRanges.1.CidrIp=0.0.0.0%2F0" >/dev/null
  moto iam 2010-05-08 CreateUser UserName=heroku-media-sync >/dev/null
  [ -z "$(redirect)" ] || awscli route53 change-resource-record-sets --hosted-zone-id "$cmr_zone" --change-batch \
    '{"Changes": [{"Action": "DELETE", "ResourceRecordSet": {"Name": "'"$CMR_OLD_DOMAIN"'", "Type": "A",
      "AliasTarget": {"HostedZoneId": "Z2FDTNDATAQYW2", "DNSName": "d2r3d1r3ct0example.cloudfront.net.",
      "EvaluateTargetHealth": false}}}]}' >/dev/null
  pdns_www REPLACE '"ttl":1,"records":[{"content":"cmr-prod.herokudns.com.","disabled":false}]'
  in_sd systemctl start clock
  in_sd nft delete table inet reconcile 2>/dev/null
  psql_lab -c "ALTER ROLE cmr_app PASSWORD 'launch-old'" >/dev/null
}

# The reference: the world before, after every stage, after rollbacks to switch and to ttl.
reset
want_start=$(world)
run apply "$spec" || bad "reference apply: $(cat err)"
want_all=$(world)
apply_records=$(records)
run rollback "$spec" --to switch || bad "reference rollback to switch: $(cat err)"
want_switch=$(world)
run apply "$spec" || bad "reference apply after the rollback to switch: $(cat err)"
before=$(records)
run rollback "$spec" --to ttl || bad "reference rollback to ttl: $(cat err)"
want_ttl=$(world)
rollback_records=$(($(records) - before))
echo "$want_switch" | grep -q '^media bucket, .*1.jpg.*2.jpg.*3.png' && ok || bad "reference: media kept at switch: $want_switch"
echo "$want_ttl" | grep -q '^media none' && ok || bad "reference: no media bucket at ttl"
[ "$apply_records" -gt 20 ] && [ "$rollback_records" -gt 10 ] && ok ||
  bad "expected dozens of records, got $apply_records (apply) and $rollback_records (rollback)"
echo "apply: $apply_records records; rollback --to ttl: $rollback_records records"

trials=0
# CRASH_TRIALS=apply or rollback runs only those (for working on one).
[ "${CRASH_TRIALS:-all}" = rollback ] && apply_records=0
[ "${CRASH_TRIALS:-all}" = apply ] && rollback_records=0
for k in $(seq 1 "$apply_records"); do
  trials=$((trials + 1))
  reset
  same "reset before apply trial $k" "$want_start"
  killed "$k" apply "$spec" && ok || bad "apply with a crash after record $k did not die by SIGKILL: $(tail -3 err)"
  [ "$(records)" -eq "$k" ] && ok || bad "after a crash at record $k the journal has $(records) records"
  run apply "$spec" && ok || bad "apply after a crash at record $k: $(tail -5 err)"
  same "apply killed after record $k, applied again" "$want_all"
  "$bin" plan "$spec" "${vars[@]}" --detailed-exitcode >out 2>&1 && ok ||
    bad "apply killed after record $k: the plan is not empty: $(cat out)"
  "$bin" status "$spec" "${vars[@]}" >out 2>&1
  ! grep -q "never finished" out && ok || bad "apply killed after record $k: status still has a step never finished"
done

# The rollbacks start from every stage applied: the last apply trial (or the reference) left it so.
[ "$apply_records" -gt 0 ] || run apply "$spec" || bad "apply before the rollback trials: $(tail -5 err)"
for j in $(seq 1 "$rollback_records"); do
  trials=$((trials + 1))
  k=$(($(records) + j))
  killed "$k" rollback "$spec" --to ttl && ok || bad "rollback with a crash after its record $j did not die by SIGKILL"
  if [ $((j % 2)) -eq 1 ]; then
    run rollback "$spec" --to ttl && ok || bad "rollback killed after its record $j, run again: $(tail -5 err)"
    same "rollback killed after its record $j, run again" "$want_ttl"
    run rollback "$spec" --to ttl && grep -q "Nothing to roll back" out && ok ||
      bad "rollback killed after its record $j: a third run is not empty: $(cat out err)"
    run apply "$spec" || bad "apply after rollback trial $j: $(tail -5 err)"
    same "apply after rollback trial $j" "$want_all"
  else
    run apply "$spec" && ok || bad "apply after a rollback killed after its record $j: $(tail -5 err)"
    same "apply after a rollback killed after its record $j" "$want_all"
    run rollback "$spec" --to switch && ok || bad "rollback --to switch after rollback trial $j: $(tail -5 err)"
    same "rollback --to switch after a rollback killed after its record $j and an apply" "$want_switch"
    run apply "$spec" || bad "apply after rollback trial $j: $(tail -5 err)"
    same "apply after rollback trial $j" "$want_all"
  fi
done

echo "crash trials on the lab spec: $trials ($apply_records apply, $rollback_records rollback)"
finish
