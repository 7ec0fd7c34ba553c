#!/usr/bin/env bash
# The demo: the ClearMyRecord launch (specs/clearmyrecord-launch.toml), Heroku to Lambda,
# rehearsed on the lab the way an operator runs it. The lab (sshd, nginx, PowerDNS, an S3
# server, PostgreSQL, and moto for AWS) starts on loopback in a temporary folder, with what
# the launch finds there (tests/specs_world.sh: Heroku's media bucket, the database, the www
# record, the app, the RDS instance with its security group, the IAM user and the old
# domain's Route 53 zone, and a database server of its own with systemd and a firewall, in
# its own namespaces). reconcile validates, plans and applies stage by stage — TTL to 60 s
# (2 s on the lab), the media bucket and two syncs, an RDS snapshot, scheduled tasks off, the
# DNS switch and the old domain's Route 53 alias behind smoke tests, day 2's password change,
# the RDS instance made private, its 5432 rule revoked and the IAM user removed — shows
# status, then runs the runbook's two rollbacks, and everything is stopped at the end. Needs
# root (namespaces, PostgreSQL's user).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
tests/install-deps.sh
cmake -S . -B build >/dev/null
cmake --build build -j2 --target reconcile >/dev/null
bin=$src/build/reconcile
lab=$(mktemp -d /tmp/reconcile-demo-lab-XXXXXX)

echo "# Starting the lab in $lab (sshd, nginx, BIND, PowerDNS, S3, PostgreSQL, moto on loopback)"
tests/lab/lab.sh up "$lab" sshd nginx bind powerdns s3 postgres aws >/dev/null
set -a
. "$lab/lab.env"
set +a
set +eu  # the shared test helpers count failures themselves
. tests/lib.sh demo
. tests/systemd_host.sh db
. tests/specs_world.sh
trap 'set +e; world_remove; sd_cleanup; "$src/tests/lab/lab.sh" down "$lab" >/dev/null 2>&1; rm -rf "$lab"' EXIT
echo "# ... and what the launch finds there: Heroku's bucket and DNS record, the database, the"
echo "#     app on Lambda, the RDS instance, its group, the IAM user and the old domain's zone on"
echo "#     moto, and the database server (198.51.100.2, its own systemd and firewall), reached as"
echo "#     its operators reach it: through a bastion, by ssh config, with ssh-agent holding the key"
world_up || { echo "demo: the lab's world did not come up" >&2; exit 1; }
set -e
. examples/lab-secrets.sh
export PDNS_API_KEY=$POWERDNS_API_KEY CMR_DB_PASSWORD_NEW="day2-$RANDOM$RANDOM"
cp specs/clearmyrecord-launch.toml specs/clearmyrecord-launch.lab.toml examples/rollback-trigger*.toml "$work/"
cd "$work"
spec=clearmyrecord-launch.toml
run() {
  echo
  echo "\$ reconcile $* --env lab"
  # shellcheck disable=SC2046 # aws_vars: the ids moto gave, as --var arguments
  "$bin" "$@" --env lab --var lab="$lab" --var user="$SSH_USER" --var host_dir="$host_dir" $(aws_vars)
}
rds() {
  echo "RDS public: $(awscli rds describe-db-instances --db-instance-identifier cmr-db \
    --query 'DBInstances[0].PubliclyAccessible'), 5432 open to: $(awscli ec2 describe-security-groups \
    --group-ids "$CMR_DB_SG" --query 'SecurityGroups[0].IpPermissions[?FromPort==`5432`].IpRanges[].CidrIp' \
    --output text), IAM user: $(awscli iam get-user --user-name heroku-media-sync >/dev/null 2>&1 && echo there || echo gone)"
}
snapshots() {
  awscli rds describe-db-snapshots --db-instance-identifier cmr-db --snapshot-type manual \
    --query 'DBSnapshots[].DBSnapshotIdentifier' --output text
}
www() { dig @127.0.0.1 -p 15353 +noall +answer cmr-www.example.test CNAME | awk '{print "www", $2 "s", $5}'; }
port() { timeout 3 bash -c 'exec 3<>/dev/tcp/198.51.100.2/5432' 2>/dev/null && echo open || echo closed; }
login() {
  PGPASSWORD=$1 psql -X -h 127.0.0.1 -p "$PG_PORT" -U cmr_app -d cmr -Atc 'SELECT 1' >/dev/null 2>&1 && echo yes || echo no
}

run validate "$spec"
run plan "$spec"
run apply "$spec" --through cutover --yes
echo
echo "# DNS: $(www); media: $(ls "$LAB_DIR/s3/data/cmr-media" | tr '\n' ' ')"
echo "# the clock process: $(in_sd systemctl is-active clock); RDS snapshot: $(snapshots)"
run status "$spec"
echo
echo "# --yes approves the plan shown, and the switch stage's confirmation (a script has no one to type yes)."
run apply "$spec" --yes
echo
echo "# DNS: $(www); the database port: $(port); the new password works: $(login "$CMR_DB_PASSWORD_NEW")"
echo "# AWS: $(rds)"
run plan "$spec" --detailed-exitcode
echo
echo "# Post-Day-2 rollback (Lambda cannot reach the database): the old password and the port back."
run rollback "$spec" --to switch --yes
echo
echo "# the database port: $(port); the old password works again: $(login launch-old)"
echo "# AWS: $(rds)"
echo
echo "# DNS rollback (the launch fails its smoke tests): www back on Heroku."
run rollback "$spec" --to cutover --dry-run
run rollback "$spec" --to cutover --yes
echo
echo "# DNS: $(www); the RDS snapshot is kept: $(snapshots)"
run status "$spec"
echo
echo "# The rehearsal as a timeline (--format html draws it), and its timings exported for the"
echo "# production run: plan --timings (or a plan beside this journal) shows them, with the downtime."
run history "$spec"
run history "$spec" --export timings.json
run plan "$spec" --timings timings.json
echo
echo "# A rollback trigger (examples/rollback-trigger.toml): the switch moves DNS and the proxy to a"
echo "# new backend and is watched for 6 s with on_failure = \"rollback\"; the backend dies while it"
echo "# is watched, and reconcile puts both back by itself."
mkdir -p backend && echo '<h1>the new shop</h1>' >backend/index.html
(cd backend && exec python3 -m http.server 18096 --bind 127.0.0.1 >/dev/null 2>&1) &
backend=$!
for _ in $(seq 1 50); do curl -s http://127.0.0.1:18096/ >/dev/null && break; sleep 0.1; done
trigger() { "$bin" "$@" --env lab --var lab="$lab" --var user="$SSH_USER"; }
echo "\$ reconcile apply rollback-trigger.toml --through prepare --yes --env lab"
trigger apply rollback-trigger.toml --through prepare --yes >/dev/null
echo "\$ reconcile apply rollback-trigger.toml --yes --env lab   (the backend is stopped 2 s into the watch)"
( for _ in $(seq 1 200); do grep -q "is watched for" trigger.err 2>/dev/null && break; sleep 0.05; done
  sleep 2; kill "$backend" ) &
killer=$!
trigger apply rollback-trigger.toml --yes 2> >(tee trigger.err >&2) || echo "(exit $?: the switch failed and was rolled back)"
wait "$killer" "$backend" 2>/dev/null || true
echo "# DNS: $(dig @127.0.0.1 -p 15354 +short trigger.example.test A); the site: $(curl -s http://127.0.0.1:18097/)"
echo
echo "# Stopping the lab and the database server."
