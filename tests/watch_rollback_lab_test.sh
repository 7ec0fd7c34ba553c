#!/usr/bin/env bash
# A rollback trigger on the lab (CloudFormation's, for a cutover): the switch moves a BIND
# record and an nginx site to a new backend and is watched for 6 s with on_failure =
# "rollback". The backend dies while the switch is watched; the site check fails, and reconcile
# rolls back by itself: the record and the site are as they were after prepare, and apply exits
# 1 saying so. With the backend up, the same apply is watched through and completes.
# Usage: watch_rollback_lab_test.sh PATH_TO_RECONCILE SOURCE_DIR   (RECONCILE_LAB_ENV set)
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" watch_rollback_lab
set -a
. "${RECONCILE_LAB_ENV:?run through ctest, which starts the lab}"
set +a
. "$src/examples/lab-secrets.sh"
cd "$work" || exit 1

# The new backend: a web server of the test's own on a free loopback port, stopped by PID.
mkdir -p backend && printf '<h1>the new shop</h1>\n' >backend/index.html
backend_pid=
backend_up() {
  rm -f "$work/backend.port"
  python3 -c '
import http.server, socketserver, sys, os
os.chdir(sys.argv[1])
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
socketserver.TCPServer.allow_reuse_address = True  # started again on the port the spec names
s = socketserver.TCPServer(("127.0.0.1", int(sys.argv[2])), Quiet)
open(sys.argv[3], "w").write(str(s.server_address[1]))
s.serve_forever()' "$work/backend" "${backend_port:-0}" "$work/backend.port" &
  backend_pid=$!
  for _ in $(seq 1 100); do [ -s "$work/backend.port" ] && break; sleep 0.05; done
  backend_port=$(cat "$work/backend.port")
  curl -s --max-time 3 "http://127.0.0.1:$backend_port/" | grep -q "the new shop" || bad "the backend does not answer"
}
backend_down() { [ -n "$backend_pid" ] && kill "$backend_pid" 2>/dev/null && wait "$backend_pid" 2>/dev/null; backend_pid=; }
trap 'backend_down; [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
backend_up
[ -n "$backend_port" ] && ok || { bad "the backend did not start"; finish; exit 1; }
testdata cut >cut.toml

run() { "$bin" "$@" >out 2>err; }
dns() { dig @127.0.0.1 -p 15354 +short watched.example.test A; }
site() { curl -s --max-time 3 http://127.0.0.1:18095/; }
# at ADDRESS TEXT: DNS gives ADDRESS and the site serves TEXT (each within 3 s of a reload).
dns_is() { [ "$(dns)" = "$1" ]; }
site_has() { site | grep -q "$1"; }
at() { eventually dns_is "$1" && eventually site_has "$2"; }

run apply cut.toml --through prepare --yes && ok || bad "apply prepare: $(cat err)"
at 192.0.2.10 "Back soon" && ok || bad "prepare: DNS and the maintenance page: $(dns) $(site)"

# The backend dies while the switch is watched.
"$bin" apply cut.toml --yes >out 2>err &
apply=$!
for _ in $(seq 1 400); do grep -q "is watched for" err 2>/dev/null && break; sleep 0.05; done
grep -q "is watched for 6s" err && ok || bad "the switch is watched: $(cat err)"
at 192.0.2.20 "the new shop" && ok || bad "switched before the backend died: $(dns) $(site)"
sleep 1
backend_down
wait "$apply"
rc=$?
[ "$rc" -eq 1 ] && ok || bad "the apply whose watch failed exits 1, not $rc: $(cat err)"
grep -qE "stage 'switch' failed while it was watched, [0-9.]+m?s into 6s: check.site_up" err && ok ||
  bad "the watch's failure names the check: $(cat err)"
grep -qF "Automatic rollback (stage 'switch' failed) of watched to the end of stage 'prepare'" out && ok ||
  bad "the automatic rollback is shown: $(cat out)"
grep -qF "stage 'switch' failed, so the world was rolled back to the end of stage 'prepare'" err && ok ||
  bad "the last word: $(cat err)"
at 192.0.2.10 "Back soon" && ok || bad "DNS and the maintenance page are back: $(dns) $(site)"
run plan cut.toml
grep -q "stage switch" out && ok || bad "the switch is to do again: $(cat out)"

# With the backend up, the switch is watched through and completes.
backend_up
run apply cut.toml --yes && ok || bad "the healthy switch: $(cat err)"
grep -qF "every check held for the 6s it was watched" err && ok || bad "watched through: $(cat err)"
at 192.0.2.20 "the new shop" && ok || bad "switched: $(dns) $(site)"
run plan cut.toml --detailed-exitcode && ok || bad "the plan after is empty: $(cat out)"
run rollback cut.toml --to prepare --yes && ok || bad "rollback by hand: $(cat err)"
at 192.0.2.10 "Back soon" && ok || bad "rolled back by hand: $(dns) $(site)"
finish
