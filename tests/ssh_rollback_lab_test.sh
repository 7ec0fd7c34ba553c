#!/usr/bin/env bash
# Through the reconcile binary, against the lab's SSH host, nginx and supervisor: a cutover
# that rewrites files (odd bytes included), puts up a maintenance page and stops a service,
# then rolls back: every file byte for byte, the site and the service as they were.
# Usage: ssh_rollback_lab_test.sh PATH_TO_RECONCILE SOURCE_DIR   (RECONCILE_LAB_ENV set)
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" ssh-rollback
. "${RECONCILE_LAB_ENV:?run through ctest, which starts the lab}"

root=$work/srv
mkdir -p "$root"
printf 'old\0bytes\r\n\xff' >"$root/app.env"
chmod 600 "$root/app.env"
cp "$root/app.env" "$work/app.env.orig"

testdata cut >"$work/cut.toml"

status_of() { curl -s -o /dev/null -w '%{http_code}' -H "Host: app.test" http://127.0.0.1:18086/; }
soon() { for _ in $(seq 1 100); do [ "$(status_of)" = "$1" ] && return 0; sleep 0.05; done; return 1; }

"$bin" apply "$work/cut.toml" --through freeze --yes >"$work/out" 2>"$work/err" && ok || bad "apply --through freeze: $(cat "$work/err")"
[ "$(cat "$root/app.env")" = "DATABASE=new-server" ] && ok || bad "env rewritten over SSH"
[ "$(stat -c %a "$root/app.env")" = "640" ] && ok || bad "mode over SSH"
soon 503 && ok || bad "maintenance page up: $(status_of)"
! pgrep -f 'python3 -m http[.]server 18090' >/dev/null && ok || bad "web stopped"

"$bin" apply "$work/cut.toml" --yes >"$work/out" 2>"$work/err" && ok || bad "apply switch: $(cat "$work/err")"
soon 200 && ok || bad "proxying after switch: $(status_of)"
"$bin" plan "$work/cut.toml" --detailed-exitcode >"$work/out" 2>&1 && ok || bad "plan after apply is empty: $(cat "$work/out")"

"$bin" rollback "$work/cut.toml" --to before --yes >"$work/out" 2>"$work/err" && ok || bad "rollback: $(cat "$work/err")"
cmp -s "$root/app.env" "$work/app.env.orig" && ok || bad "app.env restored byte for byte"
[ "$(stat -c %a "$root/app.env")" = "600" ] && ok || bad "app.env mode restored: $(stat -c %a "$root/app.env")"
[ ! -e "$NGINX_SITES/reconcile-app.conf" ] && ok || bad "site file removed"
soon 000 && ok || bad "site gone: $(status_of)"
for _ in $(seq 1 100); do pgrep -f 'python3 -m http[.]server 18090' >/dev/null && break; sleep 0.05; done
pgrep -f 'python3 -m http[.]server 18090' >/dev/null && ok || bad "web running again"

finish
