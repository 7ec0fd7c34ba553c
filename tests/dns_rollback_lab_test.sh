#!/usr/bin/env bash
# Through the reconcile binary, against the lab's BIND (RFC 2136) and PowerDNS (RFC 2136, HTTP API): the DNS switch of a cutover — create,
# lower the TTL, switch the address — with the later stages waiting out the old TTLs (shown,
# not silent), then a rollback that puts the address and the TTL back.
# Usage: dns_rollback_lab_test.sh PATH_TO_RECONCILE SOURCE_DIR   (RECONCILE_LAB_ENV set)
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" dns-rollback
. "${RECONCILE_LAB_ENV:?run through ctest, which starts the lab}"

# scenario NAME SERVER PROVIDER_TABLE WRONG_SECRET_ENV REFUSAL: the same cutover on one backend.
scenario() {
  local name=$1 server=$2 provider=$3 refusal=$4
  local host=${server%:*} port=${server#*:} dir=$work/$name
  mkdir -p "$dir"
  ask() { dig @"$host" -p "$port" +noall +answer "shop-$name.example.test" A | awk '{print $2, $5}' | sort | tr '\n' ' '; }
  testdata cut >"$dir/cut.toml"
  "$bin" apply "$dir/cut.toml" --through prepare --yes >"$dir/out" 2>"$dir/err" && ok || bad "$name: apply prepare: $(cat "$dir/err")"
  [ "$(ask)" = "3 192.0.2.10 " ] && ok || bad "$name: created with TTL 3: $(ask)"
  local start took
  start=$(date +%s)
  "$bin" apply "$dir/cut.toml" --yes >"$dir/out" 2>"$dir/err" && ok || bad "$name: apply the rest: $(cat "$dir/err")"
  took=$(($(date +%s) - start))
  [ "$(ask)" = "1 198.51.100.20 " ] && ok || bad "$name: switched with TTL 1: $(ask)"
  grep -q "stage switch waits .*dns_record.shop changed in stage lower .*old TTL (3s)" "$dir/err" && ok ||
    bad "$name: the wait before switch is shown: $(cat "$dir/err")"
  grep -q "stage after waits .*dns_record.shop changed in stage switch .*old TTL (1s)" "$dir/err" && ok ||
    bad "$name: the wait before after is shown: $(cat "$dir/err")"
  grep -q "check.seen" "$dir/err" && ok || bad "$name: the dns check ran: $(cat "$dir/err")"
  [ "$took" -ge 3 ] && ok || bad "$name: the old TTLs were waited out (took ${took}s)"
  "$bin" plan "$dir/cut.toml" --detailed-exitcode >"$dir/out" 2>&1 && ok || bad "$name: plan after apply is empty: $(cat "$dir/out")"

  "$bin" rollback "$dir/cut.toml" --to prepare --yes >"$dir/out" 2>"$dir/err" && ok || bad "$name: rollback: $(cat "$dir/err")"
  [ "$(ask)" = "3 192.0.2.10 " ] && ok || bad "$name: address and TTL back: $(ask)"

  # A wrong key or secret: refused, said plainly, and nothing changes.
  LAB_SECRET=c2VjcmV0IHRoYXQgaXMgd3JvbmcgYW5kIHNob3J0Lg== "$bin" apply "$dir/cut.toml" --yes >"$dir/out" 2>"$dir/err" &&
    bad "$name: a wrong key was accepted" || ok
  grep -q "$refusal" "$dir/err" && ok || bad "$name: wrong key named: $(cat "$dir/err")"
  [ "$(ask)" = "3 192.0.2.10 " ] && ok || bad "$name: nothing changed with the wrong key: $(ask)"
}

LAB_SECRET=$BIND_TSIG_SECRET scenario bind "$BIND_SERVER" "kind = \"rfc2136\"
server = \"$BIND_SERVER\"
tsig_name = \"$BIND_TSIG_NAME\"
tsig_secret = \"env:LAB_SECRET\"" "refused the TSIG key 'lab-key'"
LAB_SECRET=$POWERDNS_TSIG_SECRET scenario pdns-2136 "$POWERDNS_SERVER" "kind = \"rfc2136\"
server = \"$POWERDNS_SERVER\"
tsig_name = \"$POWERDNS_TSIG_NAME\"
tsig_secret = \"env:LAB_SECRET\"" "refused the TSIG key 'lab-key'"
LAB_SECRET=$POWERDNS_API_KEY scenario pdns-api "$POWERDNS_SERVER" "kind = \"powerdns\"
api_url = \"$POWERDNS_API_URL\"
api_key = \"env:LAB_SECRET\"" "answered HTTP 401"
finish
