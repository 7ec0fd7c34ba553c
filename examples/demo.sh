#!/usr/bin/env bash
# The demo: a site moved to a new server (examples/site-move.toml), rehearsed on the lab the way
# an operator runs it. The lab (sshd, nginx, supervisor, BIND, an S3 server, PostgreSQL) starts on
# loopback in a temporary folder and is stopped at the end; reconcile validates, plans, applies
# stage by stage (DNS TTL lowered and waited out, media bucket synced, maintenance page, app
# stopped, database snapshot, DNS switched, checks, password rotated), shows status, and rolls
# back twice. Needs root (the lab runs PostgreSQL as its own user).
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
tests/install-deps.sh
cmake -S . -B build >/dev/null
cmake --build build -j2 --target reconcile >/dev/null
bin=$src/build/reconcile
lab=$(mktemp -d /tmp/reconcile-demo-lab-XXXXXX)
work=$(mktemp -d /tmp/reconcile-demo-XXXXXX)
trap '"$src/tests/lab/lab.sh" down "$lab" >/dev/null 2>&1; rm -rf "$work" "$lab"' EXIT

echo "# Starting the lab in $lab (sshd, nginx, supervisor, BIND, S3, PostgreSQL on loopback)"
tests/lab/lab.sh up "$lab" sshd nginx supervisor bind s3 postgres >/dev/null
set -a
. "$lab/lab.env"
set +a
. examples/lab-secrets.sh
cp -r examples/site-move.toml examples/site-move.lab.toml examples/files "$work/"
cd "$work"
spec=site-move.toml
run() {
  echo
  echo "\$ reconcile $* --env lab"
  "$bin" "$@" --env lab --var lab="$lab" --var user="$SSH_USER"
}
ask_dns() { dig @127.0.0.1 -p 15354 +noall +answer shop.example.test A | awk '{print "shop.example.test", $2 "s", $5}'; }
site() { curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:18087/; }

run validate "$spec"
run plan "$spec"
run apply "$spec" --through freeze
echo
echo "# DNS: $(ask_dns); the site answers $(site) (maintenance)"
run status "$spec"
echo
echo "# The switch stage asks for confirmation; --yes gives it (no terminal here)."
run apply "$spec" --yes
echo
echo "# DNS: $(ask_dns); the site answers $(site); snapshot: $(ls "$lab/backups")"
run plan "$spec" --detailed-exitcode
echo
echo "# Day 2 went wrong: put everything back as it was after the switch, then after freeze."
run rollback "$spec" --to switch --yes
run rollback "$spec" --to freeze --dry-run
run rollback "$spec" --to freeze --yes
echo
echo "# DNS: $(ask_dns); the site answers $(site) (maintenance again); the snapshot is kept: $(ls "$lab/backups")"
run status "$spec"
echo
echo "# Stopping the lab."
