#!/usr/bin/env bash
# 1,000 record changes (A records moved to new addresses) in one zone of the lab's BIND, on the
# same server and the same records, four ways:
#   reconcile   `reconcile apply` as users run it: a zone transfer to probe, the plan, the journal
#               (intents made durable before anything is sent, outcomes after), the changes as
#               UPDATE messages of 16 KiB with prerequisites, pipelined on one TCP connection;
#   nsupdate    one record per message (one process, TSIG, TCP): the comparison the target is on;
#   nsupdate    all the changes in one message (one process, TSIG, TCP): the peer at its best;
#   floor       BIND's own CPU time (all its threads, /proc/PID/task/*/schedstat) to apply one
#               UPDATE of all the changes with the prerequisites reconcile sends: what no client
#               can go below.
# Then where reconcile's time went, from the events of one more `reconcile apply --json` (and
# BIND's CPU time meanwhile: the transfer and the UPDATEs). Prints each time and reconcile's
# ratio to it. Target: reconcile <= 0.15x nsupdate one record per message.
# Usage: bench/dns/run.sh [RECORDS [ROUNDS]]   (5 rounds, each figure their median; needs root,
#        like the lab; LAB_ENV=FILE reuses a running lab with bind instead of starting one;
#        RECONCILE_BENCH_BUILD=DIR times the reconcile built there)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-1000}
rounds=${2:-5}
. bench/lib.sh dns bind
host=${BIND_SERVER%:*} port=${BIND_SERVER#*:}
named=$(cat "$(dirname "$LAB_ENV")/pids/named.pid" 2>/dev/null ||
  ss -ltnpH "sport = :$port" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)
[ -d "/proc/$named" ] || { echo "bench: cannot find BIND's process (port $port)"; exit 1; }

spec() { # spec FIRST_OCTET → the zone's n records all pointing at 10.FIRST.x.y
  printf 'version = 1\nname = "dns-bench"\n[provider.dns.lab]\nkind = "rfc2136"\nserver = "%s"\n' "$BIND_SERVER"
  printf 'tsig_name = "%s"\ntsig_secret = "env:BENCH_TSIG"\nmax_change_percent = 100\n' "$BIND_TSIG_NAME"
  for i in $(seq 1 "$n"); do
    printf '[dns_record.r%s]\nprovider = "dns.lab"\nzone = "bulk.test."\nname = "r%s"\ntype = "A"\nttl = 60\n' "$i" "$i"
    printf 'values = ["10.%s.%s.%s"]\n' "$1" $((i / 256)) $((i % 256))
  done
}
spec 1 >"$work/one.toml"
spec 2 >"$work/two.toml"
export BENCH_TSIG=$BIND_TSIG_SECRET
now() { date +%s.%N; }
seconds() { local s e; s=$(now); "$@" >"$work/last.out" 2>&1 || { cat "$work/last.out"; exit 1; }; e=$(now); echo "$e - $s" | bc -l; }
# BIND's CPU time so far, in seconds (all threads; schedstat counts nanoseconds, stat 10 ms ticks).
server_cpu() {
  if cat /proc/"$named"/task/*/schedstat >/dev/null 2>&1; then
    cat /proc/"$named"/task/*/schedstat | awk '{ns += $1} END {printf "%.6f\n", ns / 1e9}'
  else
    awk -v hz="$(getconf CLK_TCK)" '{printf "%.6f\n", ($14 + $15) / hz}' /proc/"$named"/stat
  fi
}
at() { # at OCTET: every record now answers 10.OCTET.x.y (checked on the last)
  [ "$(dig @"$host" -p "$port" "r$n.bulk.test" A +short)" = "10.$1.$((n / 256)).$((n % 256))" ] ||
    { echo "bench: r$n is not at 10.$1.x.y after $2"; exit 1; }
}
nsupdate_script() { # nsupdate_script FROM TO PER_MESSAGE PREREQ → moves every record from 10.FROM to 10.TO
  echo "server $host $port"
  echo "zone bulk.test."
  for i in $(seq 1 "$n"); do
    [ "$4" = prereq ] && echo "prereq yxrrset r$i.bulk.test. A 10.$1.$((i / 256)).$((i % 256))"
    echo "update delete r$i.bulk.test. A"
    echo "update add r$i.bulk.test. 60 A 10.$2.$((i / 256)).$((i % 256))"
    [ "$3" = 1 ] && echo "send"
  done
  [ "$3" = 1 ] || echo "send"
}
key="hmac-sha256:$BIND_TSIG_NAME:$BIND_TSIG_SECRET"

# Each figure is the median of ROUNDS rounds (one run is at the mercy of the disk: BIND syncs
# its zone journal per UPDATE). A round starts from a journal of its own and the records at
# 10.2.x.y, so every round times the same work.
median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
spread() { sort -n | awk 'NR == 1 {lo = $1} {hi = $1} END {printf "%.3f-%.3f", lo, hi}'; }
nsupdate_script 2 1 1 none >"$work/each.txt"
nsupdate_script 1 2 all none >"$work/all.txt"
nsupdate_script 2 1 all prereq >"$work/floor.txt"
nsupdate_script 1 2 all none >"$work/back.txt"
: >"$work/r" >"$work/a" >"$work/b" >"$work/f" >"$work/fw"
for k in $(seq 1 "$rounds"); do
  mkdir "$work/round$k"
  cp "$work/one.toml" "$work/two.toml" "$work/round$k/"
  # Setup, untimed: the records at 10.1.x.y, in this round's own journal.
  "$bin" apply "$work/round$k/one.toml" --yes >/dev/null 2>&1
  at 1 "setup of round $k"
  # reconcile moves all of them to 10.2.x.y …
  seconds "$bin" apply "$work/round$k/two.toml" --yes >>"$work/r"
  at 2 "reconcile apply"
  # … nsupdate moves them back, one record per message, …
  seconds nsupdate -v -y "$key" "$work/each.txt" >>"$work/a"
  at 1 "nsupdate, one record per message"
  # … and to 10.2 again, all in one message (no prerequisites: the least work asked of BIND) …
  seconds nsupdate -v -y "$key" "$work/all.txt" >>"$work/b"
  at 2 "nsupdate, all in one message"
  # … and back, in one message with reconcile's prerequisites (each record's present value):
  # BIND's CPU time for it is the floor.
  c0=$(server_cpu)
  seconds nsupdate -v -y "$key" "$work/floor.txt" >>"$work/fw"
  echo "$(server_cpu) - $c0" | bc -l >>"$work/f"
  at 1 "nsupdate, all in one message with prerequisites"
  # Untimed: back to 10.2.x.y, where the next round's setup starts.
  seconds nsupdate -v -y "$key" "$work/back.txt" >/dev/null
  at 2 "the end of round $k"
done
r=$(median <"$work/r") a=$(median <"$work/a") b=$(median <"$work/b") f=$(median <"$work/f") fw=$(median <"$work/fw")

# Where reconcile's time goes: the same apply with --json, its events timed.
"$bin" apply "$work/round$rounds/one.toml" --yes >/dev/null 2>&1
at 1 "the setup of the apply with --json"
c0=$(server_cpu)
s=$(now)
"$bin" apply "$work/round$rounds/two.toml" --yes --json >"$work/json.out" 2>"$work/events" || { cat "$work/events"; exit 1; }
e=$(now)
sc=$(echo "$(server_cpu) - $c0" | bc -l)
at 2 "reconcile apply --json"
event_time() { date -d "$(grep -m1 "\"event\":\"$1\"" "$work/events" | sed 's/.*"time":"\([^"]*\)".*/\1/')" +%s.%N; }
stage=$(event_time stage_started)
started=$(event_time step_started)
sent_ms=$(grep -m1 '"event":"step_finished"' "$work/events" | sed 's/.*"ms":\([0-9]*\).*/\1/')

ratio() { echo "$r / $1" | bc -l; }
printf '%-66s %9s %11s  %s\n' "$n record changes in one zone (BIND, TSIG, TCP)" seconds "reconcile =" "rounds' range"
printf '%-66s %9.3f %11s  %s\n' "reconcile apply (probe, plan, journal, pipelined UPDATEs)" "$r" "" "$(spread <"$work/r")"
printf '%-66s %9.3f %10.3fx  %s\n' "nsupdate, one record per message" "$a" "$(ratio "$a")" "$(spread <"$work/a")"
printf '%-66s %9.3f %10.3fx  %s\n' "nsupdate, all in one message (the peer at its best)" "$b" "$(ratio "$b")" "$(spread <"$work/b")"
printf '%-66s %9.3f %10.3fx  %s\n' "floor: BIND's CPU applying one UPDATE of all (with prerequisites)" "$f" "$(ratio "$f")" "$(spread <"$work/f")"
printf '%-66s %9.3f %11s  %s\n' "  (that nsupdate's own time)" "$fw" "" "$(spread <"$work/fw")"
echo "each figure: the median of $rounds rounds"
echo "target: reconcile <= 0.15x nsupdate one record per message: $(echo "$r / $a <= 0.15" | bc -l | sed 's/1/met/; s/0/NOT met/')"
echo "where reconcile's time went (a second apply, with --json: $(printf '%.3f' "$(echo "$e - $s" | bc -l)") s):"
printf '  %-64s %9.3f\n' "start to the stage (spec, journal read, transfer, plan)" "$(echo "$stage - $s" | bc -l)"
printf '  %-64s %9.3f\n' "the intents made durable" "$(echo "$started - $stage" | bc -l)"
printf '  %-64s %9.3f\n' "the UPDATEs sent and answered" "$(echo "$sent_ms / 1000" | bc -l)"
printf '  %-64s %9.3f\n' "the outcomes journaled, the summary, the exit" "$(echo "$e - $started - $sent_ms / 1000" | bc -l)"
printf '  %-64s %9.3f\n' "BIND's CPU meanwhile (the transfer and the UPDATEs)" "$sc"
