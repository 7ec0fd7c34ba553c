#!/usr/bin/env bash
# An http check through the binary, as an operator checks a new server before DNS moves:
# `resolve` points the production name at it, a header's token comes from the environment;
# the check holds, and the token is in no plan, output or journal.
# Usage: http_check_test.sh PATH_TO_RECONCILE SOURCE_DIR
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" httpcheck

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
python3 "$src/tests/testdata/vhost_server.py" "$port" shop.example.test s3cret-token-xyz >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

spec() { # spec FILE RESOLVE_LINE
  testdata httpcheck "$@" >"$1"
}
spec "$work/with.toml" "resolve = \"shop.example.test:$port:127.0.0.1\""
spec "$work/without.toml" ""

export SHOP_TOKEN=s3cret-token-xyz
"$bin" check "$work/with.toml" >"$work/out" 2>&1 && ok || { bad "the check with resolve should hold"; cat "$work/out"; }
grep -qF "✓ check.new_server" "$work/out" && ok || { bad "the check is reported as holding"; cat "$work/out"; }
"$bin" check "$work/without.toml" >"$work/out2" 2>&1 && { bad "without resolve the name should not resolve"; cat "$work/out2"; } || ok
"$bin" plan "$work/with.toml" --json >"$work/plan.json" 2>"$work/plan.err" && ok || { bad "plan"; cat "$work/plan.err"; }
"$bin" apply "$work/with.toml" --yes >"$work/apply.out" 2>"$work/apply.err" && ok || { bad "apply"; cat "$work/apply.err"; }
if grep -rqF "s3cret-token-xyz" "$work"/out "$work"/out2 "$work"/plan.* "$work"/apply.* "$work"/httpcheck.journal; then
  bad "the token was shown or written"
else
  ok
fi
unset SHOP_TOKEN
"$bin" check "$work/with.toml" >"$work/out" 2>&1 && bad "an unset token variable should fail the check" || ok
grep -qF "SHOP_TOKEN, which is not set" "$work/out" && ok || { bad "the unset variable is named"; cat "$work/out"; }

finish
