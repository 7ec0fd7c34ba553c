#!/usr/bin/env bash
# Values that would write directives of their own into an nginx site file or a zone-file
# record are refused by `reconcile validate`, exit 1, at their file:line:col; nothing is
# probed or written. (The server name below once served the host's /etc from /leak/.)
# Usage: injection_test.sh PATH_TO_RECONCILE SOURCE_DIR
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" injection

spec=$work/inject.toml
testdata_verbatim inject >"$spec"

"$bin" validate "$spec" >"$work/out" 2>"$work/err"
code=$?
[ "$code" = 1 ] && ok || bad "validate exited $code, wanted 1: $(cat "$work/out" "$work/err")"
expect() { # expect LINE:COL ATTRIBUTE TEXT
  grep -qF "$spec:$1: error: attribute '$2' of $3" "$work/err" && ok ||
    bad "no error at $spec:$1 for $2 of $3: $(cat "$work/err")"
}
expect 9:17 server_names "nginx_site.web: holds ';', which ends an nginx directive"
expect 10:10 listen "nginx_site.web: holds a line break"
expect 11:14 proxy_pass "nginx_site.web: holds ';'"
expect 12:19 tls_certificate "nginx_site.web: holds ';'"
expect 13:24 client_max_body_size "nginx_site.web: holds a space"
expect 23:11 values "dns_record.mx: holds ';' outside quotes"
grep -q "6 errors in the spec; nothing was probed or changed" "$work/err" && ok || bad "summary: $(tail -1 "$work/err")"
# plan stops at the same place, before anything is probed.
"$bin" plan "$spec" >"$work/out" 2>"$work/err"
[ $? = 1 ] && grep -qF "$spec:9:17:" "$work/err" && ok || bad "plan: $(cat "$work/err")"
finish
