#!/usr/bin/env bash
# The service type's runit backend (manager = "runit"), through the binary, against a real
# runit: the test's own runsvdir watching a folder of the test's own, on host = "local".
# A service linked (enabled) and started; stopped, waited until its process is gone; the link
# removed and its runsv gone; rollback brings it back running; a service that ignores SIGTERM fails the stop after
# stop_timeout; one without a folder is named in the plan's error. runit never runs as PID 1
# here: only runsvdir, runsv and sv, stopped by PID at the end.
# Usage: runit_test.sh PATH_TO_RECONCILE SOURCE_DIR
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" runit
for tool in runsvdir runsv sv; do
  command -v $tool >/dev/null || { echo "FAIL: $tool is missing (tests/install-deps.sh installs runit)"; exit 1; }
done

sv_dir=$work/sv
svc=$work/service
mkdir -p "$sv_dir/web" "$sv_dir/stubborn" "$svc"
printf '#!/bin/sh\nexec sleep 1000\n' >"$sv_dir/web/run"
# An ignored signal stays ignored across exec: TERM never reaches this one.
printf '#!/bin/sh\ntrap "" TERM\nexec sleep 1000\n' >"$sv_dir/stubborn/run"
chmod +x "$sv_dir/web/run" "$sv_dir/stubborn/run"

runsvdir -P "$svc" >/dev/null 2>&1 &
runsvdir_pid=$!
stop_runit() {
  # SIGHUP: runsvdir sends each runsv a TERM (stop the service, then exit) and exits itself.
  [ -e "$svc/stubborn" ] && sv kill "$svc/stubborn" >/dev/null 2>&1
  kill -HUP "$runsvdir_pid" 2>/dev/null
  wait "$runsvdir_pid" 2>/dev/null
  for _ in $(seq 50); do
    sv status "$sv_dir/web" "$sv_dir/stubborn" 2>&1 | grep -q '^run:\|^down:' || break
    sleep 0.1
  done
}
trap 'stop_runit; [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT

spec=$work/runit.toml
testdata runit >"$spec"
rc() { "$bin" "$@" >"$work/out" 2>"$work/err"; }
pid_of() { sv status "$svc/$1" 2>/dev/null | sed -n 's/^run: [^:]*: (pid \([0-9]*\)).*/\1/p'; }

rc plan "$spec"
grep -qF 'enabled: false → true' "$work/out" && grep -qF 'state:   "stopped" → "running"' "$work/out" && ok ||
  bad "plan should enable and start web: $(cat "$work/out" "$work/err")"

rc apply "$spec" --through start --yes && ok || bad "apply --through start: $(cat "$work/out" "$work/err")"
[ -L "$svc/web" ] && ok || bad "web should be linked into the service folder"
pid=$(pid_of web)
[ -n "$pid" ] && ok || bad "web should run: $(sv status "$svc/web" 2>&1)"
rc plan "$spec" --stage start --detailed-exitcode && ok || bad "stage start should be converged: $(cat "$work/out")"

rc apply "$spec" --through stop --yes && ok || bad "apply --through stop: $(cat "$work/out" "$work/err")"
sv status "$svc/web" | grep -q '^down:' && ok || bad "web should be down: $(sv status "$svc/web" 2>&1)"
[ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && ok || bad "web's process $pid should be gone once stop returned"
[ -L "$svc/web" ] && ok || bad "web stays linked at stage stop"

rc apply "$spec" --yes && ok || bad "apply: $(cat "$work/out" "$work/err")"
[ ! -e "$svc/web" ] && [ ! -L "$svc/web" ] && ok || bad "web's link should be removed at stage retire"
[ -d "$sv_dir/web" ] && ok || bad "web's own folder is never removed"
sv status "$sv_dir/web" 2>&1 | grep -q '^fail:' && ok || bad "web's runsv should be gone once apply returns: $(sv status "$sv_dir/web" 2>&1)"
rc plan "$spec" --detailed-exitcode && ok || bad "plan after apply should be empty: $(cat "$work/out" "$work/err")"

rc rollback "$spec" --to start --yes && ok || bad "rollback --to start: $(cat "$work/out" "$work/err")"
[ -L "$svc/web" ] && [ -n "$(pid_of web)" ] && ok || bad "rollback should leave web linked and running: $(sv status "$svc/web" 2>&1)"

# A service that ignores SIGTERM: the stop fails after stop_timeout, and says so.
stubborn=$work/stubborn.toml
testdata stubborn >"$stubborn"
rc apply "$stubborn" --through start --yes && ok || bad "stubborn: apply --through start: $(cat "$work/out" "$work/err")"
start=$(date +%s)
rc apply "$stubborn" --yes && bad "a stop that times out should fail the apply" || ok
grep -q 'timeout: run: .*stubborn' "$work/err" && grep -qF 'give it longer with stop_timeout' "$work/err" && ok ||
  bad "the failure should show sv's timeout and the hint: $(cat "$work/out" "$work/err")"
[ $(($(date +%s) - start)) -lt 10 ] && ok || bad "the stop should give up after about 1s"

# A service with no folder is named when the plan probes it.
sed -e 's/name = "web"/name = "nosuch"/' -e 's/name = "runit"/name = "nosuch"/' "$spec" >"$work/nosuch.toml"
rc plan "$work/nosuch.toml" && bad "a plan for a missing service should fail" || ok
grep -qF "has no service 'nosuch': no folder $sv_dir/nosuch" "$work/err" && ok || bad "error should name the folder: $(cat "$work/err")"

finish
