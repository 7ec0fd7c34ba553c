#!/usr/bin/env bash
# 1,000 record changes in one zone of the lab's BIND: `reconcile apply` (a transfer to probe,
# the plan, the journal, UPDATE messages as full as fit) against `nsupdate` sending one
# record per message (one process, TSIG, TCP), on the same server and the same records.
# Prints both times and the ratio. Target: reconcile <= 0.2x nsupdate.
# Usage: bench/dns/run.sh [RECORDS]   (needs root, like the lab; LAB_ENV=FILE reuses a
#        running lab with bind instead of starting one)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-1000}
. bench/lib.sh dns bind
host=${BIND_SERVER%:*} port=${BIND_SERVER#*:}

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
seconds() { local s e; s=$(date +%s.%N); "$@" >"$work/last.out" 2>&1 || { cat "$work/last.out"; exit 1; }; e=$(date +%s.%N); echo "$e - $s" | bc -l; }

# Setup: the records exist, at 10.1.x.y.
"$bin" apply "$work/one.toml" --yes >/dev/null 2>&1
# reconcile moves all of them to 10.2.x.y …
r=$(seconds "$bin" apply "$work/two.toml" --yes)
[ "$(dig @"$host" -p "$port" r$n.bulk.test A +short)" = "10.2.$((n / 256)).$((n % 256))" ] || { echo "reconcile did not apply"; exit 1; }
# … and nsupdate moves them back, one record per message.
{
  echo "server $host $port"
  echo "zone bulk.test."
  for i in $(seq 1 "$n"); do
    echo "update delete r$i.bulk.test. A"
    echo "update add r$i.bulk.test. 60 A 10.1.$((i / 256)).$((i % 256))"
    echo "send"
  done
} >"$work/nsupdate.txt"
a=$(seconds nsupdate -v -y "hmac-sha256:$BIND_TSIG_NAME:$BIND_TSIG_SECRET" "$work/nsupdate.txt")
[ "$(dig @"$host" -p "$port" r$n.bulk.test A +short)" = "10.1.$((n / 256)).$((n % 256))" ] || { echo "nsupdate did not apply"; exit 1; }

printf '%-34s %12s %12s %8s\n' "$n record changes in one zone" reconcile_s nsupdate_s ratio
printf '%-34s %12.2f %12.2f %7.3fx\n' "apply (probe, plan, journal, send)" "$r" "$a" "$(echo "$r / $a" | bc -l)"
echo "target: reconcile <= 0.2x nsupdate"
