#!/usr/bin/env bash
# The service type's systemd backend, through the binary, against a real systemd: PID 1 of a
# host of the test's own (tests/systemd_host.sh), reached over SSH as the lab's deploy user
# with sudo. A unit started and enabled; the plan then empty; a stop that takes its unit two
# seconds waited out until the process is gone from the process table; rollbacks to each
# earlier stage (running and enabled again, then stopped and disabled as found); a unit that
# ignores SIGTERM fails the step after stop_timeout, naming its process; a unit that does not
# exist is named in the plan's error. First: the host is kept from this machine's /tmp and units
# (a unit with default dependencies is refused, this machine's /tmp keeps its files).
# Usage: systemd_lab_test.sh PATH_TO_RECONCILE SOURCE_DIR   (RECONCILE_LAB_ENV set; root)
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" systemd
. "${RECONCILE_LAB_ENV:?run through ctest, which starts the lab}"
. "$src/tests/systemd_host.sh" app

# A worker that takes two seconds to stop: its ExecStop runs before systemd sends SIGTERM.
cat >"$sd_units/worker.service" <<UNIT
[Unit]
DefaultDependencies=no
[Service]
ExecStart=/bin/bash -c 'while :; do sleep 0.1; done' reconcile-worker-$$
ExecStop=/bin/sleep 2
[Install]
WantedBy=multi-user.target
UNIT
cat >"$sd_units/stubborn.service" <<UNIT
[Unit]
DefaultDependencies=no
[Service]
ExecStart=/bin/bash -c 'trap "" TERM; while :; do sleep 0.1; done' reconcile-stubborn-$$
TimeoutStopSec=60
UNIT
# A unit with default dependencies: they pull in sysinit.target, whose tmpfiles would empty /tmp.
cat >"$sd_units/defaults.service" <<UNIT
[Service]
Type=oneshot
ExecStart=/bin/true
UNIT
sd_up || { finish; exit 1; }

# The host's /tmp and /var/tmp are its own; what this machine keeps there is left alone.
marker=$(mktemp /tmp/reconcile-systemd-marker-XXXXXX)
var_marker=$(mktemp /var/tmp/reconcile-systemd-marker-XXXXXX)
in_sd touch "/tmp/reconcile-on-host-$$" "/var/tmp/reconcile-on-host-$$"
isolated=yes
for d in /tmp /var/tmp; do
  [ ! -e "$d/reconcile-on-host-$$" ] && ok || { bad "the host's $d is this machine's"; isolated=; }
  rm -f "$d/reconcile-on-host-$$"
done
in_sd test ! -e "$marker" && ok || { bad "the host sees this machine's /tmp"; isolated=; }
in_sd test -f "$work/sd-sshd.conf" && ok || bad "the test's folder is in the host's /tmp"
# Only then is it safe to ask the host's systemd for sysinit.target.
if [ -n "$isolated" ]; then
  in_sd systemctl start defaults.service >"$work/out" 2>&1 && bad "a unit with default dependencies started" ||
    { grep -q "sysinit.target is masked" "$work/out" && ok || bad "the refusal names sysinit.target: $(cat "$work/out")"; }
  for u in sysinit.target systemd-tmpfiles-setup.service systemd-journald.service nginx.service postgresql@.service; do
    in_sd systemctl start "${u/@/@15-main}" >"$work/out" 2>&1 && bad "$u started on the host" ||
      { grep -q "masked" "$work/out" && ok || bad "$u is masked on the host: $(cat "$work/out")"; }
  done
  [ "$(in_sd systemctl is-active sysinit.target)" = inactive ] && ok || bad "sysinit.target inactive on the host"
  [ -z "$(in_sd find /run/systemd/generator /run/systemd/generator.early /run/systemd/generator.late -mindepth 1 2>/dev/null)" ] &&
    ok || bad "generators ran on the host: $(in_sd find /run/systemd/generator* -mindepth 1 2>&1 | head -5)"
fi
[ -f "$marker" ] && [ -f "$var_marker" ] && ok || bad "this machine's /tmp and /var/tmp were emptied"
rm -f "$marker" "$var_marker"

worker_pid() { pgrep -f "reconcile-worker-$$" | head -1; }
is_enabled() { in_sd systemctl is-enabled worker.service 2>/dev/null; }

spec() {  # spec FILE UNIT STOP_TIMEOUT
  testdata systemd "$@" >"$1"
}

spec "$work/sd.toml" worker.service 10s
[ -z "$(worker_pid)" ] && [ "$(is_enabled)" = disabled ] && ok || bad "worker stopped and disabled at first: $(is_enabled)"
"$bin" plan "$work/sd.toml" >"$work/out" 2>&1 && grep -q "service.worker" "$work/out" && ok ||
  bad "plan shows the worker: $(cat "$work/out")"

"$bin" apply "$work/sd.toml" --through up --yes >"$work/out" 2>"$work/err" && ok || bad "apply --through up: $(cat "$work/err")"
[ -n "$(worker_pid)" ] && ok || bad "worker in the process table after start"
[ "$(is_enabled)" = enabled ] && ok || bad "worker enabled: $(is_enabled)"
in_sd test -L /etc/systemd/system/multi-user.target.wants/worker.service && ok || bad "enable made the host's wants link"
[ ! -e /etc/systemd/system/multi-user.target.wants/worker.service ] && ok || bad "this machine's /etc untouched"
"$bin" plan "$work/sd.toml" --stage up --detailed-exitcode >"$work/out" 2>&1 && ok ||
  bad "plan through up is empty after apply: $(cat "$work/out")"

pid=$(worker_pid)
t0=$(date +%s%N)
"$bin" apply "$work/sd.toml" --yes >"$work/out" 2>"$work/err" && ok || bad "apply downtime: $(cat "$work/err")"
took=$((($(date +%s%N) - t0) / 1000000))
# The moment apply returns, the old process is gone: not merely asked to stop.
! kill -0 "$pid" 2>/dev/null && [ -z "$(worker_pid)" ] && ok || bad "worker $pid gone when apply returned"
[ "$took" -ge 1900 ] && ok || bad "apply waited out the two-second stop: ${took} ms"
[ "$(in_sd systemctl is-active worker.service)" = inactive ] && ok || bad "unit inactive"
"$bin" plan "$work/sd.toml" --detailed-exitcode >"$work/out" 2>&1 && ok || bad "plan empty after apply: $(cat "$work/out")"

"$bin" rollback "$work/sd.toml" --to up --yes >"$work/out" 2>"$work/err" && ok || bad "rollback --to up: $(cat "$work/err")"
[ -n "$(worker_pid)" ] && [ "$(is_enabled)" = enabled ] && ok || bad "running and enabled again after rollback --to up"
"$bin" rollback "$work/sd.toml" --to before --yes >"$work/out" 2>"$work/err" && ok ||
  bad "rollback --to before: $(cat "$work/err")"
[ -z "$(worker_pid)" ] && [ "$(is_enabled)" = disabled ] && ok || bad "stopped and disabled as found: $(is_enabled)"
in_sd test ! -e /etc/systemd/system/multi-user.target.wants/worker.service && ok || bad "wants link gone"

# A unit that ignores SIGTERM: the step fails after stop_timeout, and says with what.
spec "$work/stubborn.toml" stubborn.service 1s
sed -i 's/name = "systemd"/name = "stubborn"/' "$work/stubborn.toml"
"$bin" apply "$work/stubborn.toml" --through up --yes >"$work/out" 2>"$work/err" && ok || bad "stubborn started: $(cat "$work/err")"
spid=$(pgrep -f "reconcile-stubborn-$$" | head -1)
"$bin" apply "$work/stubborn.toml" --yes >"$work/out" 2>"$work/err" && bad "a stop that never ends passed" ||
  { grep -q "stubborn.service on app .* was told to stop but is still deactivating, its process [0-9]* still there, after 1s" \
    "$work/err" && ok || bad "stop timeout named: $(cat "$work/err")"; }
kill -0 "$spid" 2>/dev/null && ok || bad "the stubborn process really is still there"
in_sd systemctl kill --signal=KILL stubborn.service

# A unit the host does not have is named before anything is done.
spec "$work/missing.toml" no-such-unit.service 10s
sed -i 's/name = "systemd"/name = "missing"/' "$work/missing.toml"
"$bin" plan "$work/missing.toml" >"$work/out" 2>&1 && bad "plan of a missing unit passed" ||
  { grep -q "systemd has no unit 'no-such-unit.service'" "$work/out" && ok || bad "missing unit named: $(cat "$work/out")"; }

finish
