#!/usr/bin/env bash
# The SSH probe alone: `reconcile plan` of N converged `file` resources on ONE lab sshd, so
# nearly all the time is the probe of that host. Prints ms per file (the whole plan divided by
# N, and the marginal cost of a file: the plan of N minus the plan of 1, over N-1) beside the
# target, and the processes the host started for one plan (execve under sshd, by strace).
# Usage: bench/ssh_plan/probe.sh [FILES] [RUNS]   (needs root, like the lab)
#   RECONCILE_BENCH_BUILD=DIR: use DIR/reconcile as it is (no build); else build-bench/ (Release).
#   RECONCILE_BENCH_BIN=PATH: time that binary instead (e.g. an older build, for a before/after).
set -euo pipefail
cd "$(dirname "$0")/../.."
files=${1:-1000}
runs=${2:-5}
if [ -n "${RECONCILE_BENCH_BIN:-}" ]; then
  bin=$RECONCILE_BENCH_BIN
elif [ -n "${RECONCILE_BENCH_BUILD:-}" ]; then
  bin=$RECONCILE_BENCH_BUILD/reconcile
else
  tests/install-deps.sh
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DRECONCILE_TESTS=OFF -DRECONCILE_BENCH=ON >/dev/null
  cmake --build build-bench -j2 --target reconcile >/dev/null
  bin=$PWD/build-bench/reconcile
fi
work=$(mktemp -d /tmp/reconcile-ssh-probe-bench-XXXXXX)
chmod 755 "$work"  # the lab's SSH user reads the files
lab=$work/lab
trap 'tests/lab/lab.sh down "$lab" >/dev/null; rm -rf "$work"' EXIT
tests/lab/lab.sh up "$lab" sshd >/dev/null
. "$lab/lab.env"

spec() { # spec N FILE
  {
    echo 'version = 1'
    echo 'name = "ssh-probe-bench"'
    printf '[host.h]\naddress = "127.0.0.1"\nport = %s\nuser = "%s"\nidentity = "%s"\nknown_hosts = "%s"\n' \
      "$SSH_PORT" "$SSH_USER" "$SSH_IDENTITY" "$SSH_KNOWN_HOSTS"
    for j in $(seq 1 "$1"); do
      printf '[file.f%s]\nhost = "h"\npath = "%s/files/f%s"\ncontent = "file %s on the host\\n"\nmode = "0644"\n' \
        "$j" "$work" "$j" "$j"
    done
  } >"$2"
}
mkdir -p "$work/files"
for j in $(seq 1 "$files"); do printf 'file %s on the host\n' "$j" >"$work/files/f$j"; done
chmod 644 "$work"/files/*
spec "$files" "$work/n.toml"
spec 1 "$work/one.toml"

# The fastest of RUNS plans, in seconds; each must find nothing to change.
best() {
  local b=999 s e t
  for _ in $(seq 1 "$runs"); do
    s=$(date +%s.%N)
    "$bin" plan "$1" >"$work/last.out" 2>&1 || true
    e=$(date +%s.%N)
    grep -q "No changes" "$work/last.out" || { echo "plan did not converge:"; tail -20 "$work/last.out"; exit 1; }
    t=$(echo "$e - $s" | bc -l)
    if (($(echo "$t < $b" | bc -l))); then b=$t; fi
  done
  echo "$b"
}
tn=$(best "$work/n.toml")
t1=$(best "$work/one.toml")

# Processes the host ran for one plan: execve under the lab's sshd, all of them (the login
# shell's rc files included) and those of the probe itself (`sh -s` and its descendants).
procs=n/a
probe_procs=n/a
if command -v strace >/dev/null; then
  pid=$(cat "$lab/pids/sshd_$SSH_PORT.pid")
  strace -f -qq -e trace=execve,clone,clone3,fork,vfork -o "$work/exec.log" -p "$pid" &
  tracer=$!
  sleep 0.5
  "$bin" plan "$work/n.toml" >/dev/null 2>&1 || true
  sleep 0.2
  kill "$tracer"
  wait "$tracer" 2>/dev/null || true
  # Successful execs only (a PATH search tries several directories first), as "PID PROGRAM".
  awk '/execve\(/ && !/= -1/ { match($0, /execve\("[^"]*"/); p = substr($0, RSTART + 8, RLENGTH - 9);
         sub(/.*\//, "", p); print $1, p, ($0 ~ /\["sh", "-s"\]/) ? "probe" : "" }' "$work/exec.log" >"$work/execs"
  # Parent of each child: "PARENT ... = CHILD" on a clone/fork line (or its "resumed" end).
  awk '/(clone|clone3|fork|vfork)(\(| resumed)/ && / = [0-9]+$/ { print $1, $NF }' "$work/exec.log" >"$work/forks"
  count() { sort | uniq -c | awk '{ printf "%s%s×%s", s, $2, $1; s = " " }'; }
  procs="$(wc -l <"$work/execs") ($(awk '{ print $2 }' "$work/execs" | count))"
  probe_procs=$(awk 'NR == FNR { parent[$2] = $1; next }
      $3 == "probe" { root[$1] = 1 }
      { for (p = $1; p != ""; p = parent[p]) if (p in root) { print $2; break } }' \
    "$work/forks" "$work/execs" | {
      n=0; list=""; while read -r prog; do n=$((n + 1)); list="$list$prog"$'\n'; done
      printf '%s (%s)' "$n" "$(printf '%s' "$list" | count)"; })
fi

printf '%-44s %s\n' "binary" "$bin"
printf '%-44s %8.3f s\n' "plan, $files converged files on 1 host" "$tn"
printf '%-44s %8.3f s\n' "plan, 1 file on the same host" "$t1"
printf '%-44s %8.3f ms   (target <= 0.2)\n' "ms per file, whole plan / $files" "$(echo "$tn * 1000 / $files" | bc -l)"
printf '%-44s %8.3f ms   (target <= 0.2)\n' "ms per file, marginal (plan N - plan 1)/(N-1)" \
  "$(echo "($tn - $t1) * 1000 / ($files - 1)" | bc -l)"
printf '%-44s %s\n' "processes on the host, one plan, all" "$procs"
printf '%-44s %s\n' "processes on the host, one plan, the probe" "$probe_procs"
