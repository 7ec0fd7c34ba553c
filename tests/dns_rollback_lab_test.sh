#!/usr/bin/env bash
# Through the reconcile binary, against the lab's BIND: the DNS switch of a cutover — create,
# lower the TTL, switch the address — with the later stages waiting out the old TTLs (shown,
# not silent), then a rollback that puts the address and the TTL back.
# Usage: dns_rollback_lab_test.sh PATH_TO_RECONCILE SOURCE_DIR   (RECONCILE_LAB_ENV set)
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" dns-rollback
. "${RECONCILE_LAB_ENV:?run through ctest, which starts the lab}"
host=${BIND_SERVER%:*} port=${BIND_SERVER#*:}
ask() { dig @"$host" -p "$port" +noall +answer "$1.example.test" A | awk '{print $2, $5}' | sort | tr '\n' ' '; }

cat >"$work/cut.toml" <<SPEC
version = 1
name = "dnscut"
stages = ["prepare", "lower", "switch", "after"]

[provider.dns.lab]
kind = "rfc2136"
server = "$BIND_SERVER"
tsig_name = "$BIND_TSIG_NAME"
tsig_secret = "env:LAB_TSIG"

[dns_record.shop]
stage = "prepare"
provider = "dns.lab"
zone = "example.test."
name = "shop"
type = "A"
ttl = 3
values = ["192.0.2.10"]
[dns_record.shop.at.lower]
ttl = 1
[dns_record.shop.at.switch]
values = ["198.51.100.20"]

[file.marker]
stage = "after"
host = "local"
path = "$work/marker"
content = "after the switch\n"
SPEC
export LAB_TSIG=$BIND_TSIG_SECRET

"$bin" apply "$work/cut.toml" --through prepare >"$work/out" 2>"$work/err" && ok || bad "apply prepare: $(cat "$work/err")"
[ "$(ask shop)" = "3 192.0.2.10 " ] && ok || bad "created with TTL 3: $(ask shop)"
start=$(date +%s)
"$bin" apply "$work/cut.toml" --yes >"$work/out" 2>"$work/err" && ok || bad "apply the rest: $(cat "$work/err")"
took=$(($(date +%s) - start))
[ "$(ask shop)" = "1 198.51.100.20 " ] && ok || bad "switched with TTL 1: $(ask shop)"
grep -q "stage switch waits .*dns_record.shop changed in stage lower .*old TTL (3s)" "$work/err" && ok ||
  bad "the wait before switch is shown: $(cat "$work/err")"
grep -q "stage after waits .*dns_record.shop changed in stage switch .*old TTL (1s)" "$work/err" && ok ||
  bad "the wait before after is shown: $(cat "$work/err")"
[ "$took" -ge 3 ] && ok || bad "the old TTLs were waited out (took ${took}s)"
"$bin" plan "$work/cut.toml" --detailed-exitcode >"$work/out" 2>&1 && ok || bad "plan after apply is empty: $(cat "$work/out")"

"$bin" rollback "$work/cut.toml" --to prepare --yes >"$work/out" 2>"$work/err" && ok || bad "rollback: $(cat "$work/err")"
[ "$(ask shop)" = "3 192.0.2.10 " ] && ok || bad "address and TTL back: $(ask shop)"

# A wrong key: refused, said plainly, and nothing changes.
LAB_TSIG=c2VjcmV0IHRoYXQgaXMgd3JvbmcgYW5kIHNob3J0Lg== "$bin" apply "$work/cut.toml" --yes >"$work/out" 2>"$work/err" &&
  bad "a wrong TSIG secret was accepted" || ok
grep -q "refused the TSIG key 'lab-key'" "$work/err" && ok || bad "wrong key named: $(cat "$work/err")"
[ "$(ask shop)" = "3 192.0.2.10 " ] && ok || bad "nothing changed with the wrong key: $(ask shop)"
finish
