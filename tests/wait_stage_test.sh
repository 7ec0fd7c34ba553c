#!/usr/bin/env bash
# check kind "wait" through the binary: a stage gated by a 2 s wait takes at least 2 s, counts
# down on stderr, and the stage after it runs once the wait is over.
# Usage: wait_stage_test.sh PATH_TO_RECONCILE SOURCE_DIR
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" wait

testdata wait >"$work/wait.toml"

"$bin" validate "$work/wait.toml" >"$work/out" 2>&1 && ok || { bad "validate"; cat "$work/out"; }
"$bin" plan "$work/wait.toml" >"$work/plan" 2>&1
grep -qF "? check.drain" "$work/plan" && ok || { bad "the plan shows the wait as a check"; cat "$work/plan"; }

start=$(date +%s%N)
"$bin" apply "$work/wait.toml" --yes >"$work/out" 2>"$work/err"
rc=$?
end=$(date +%s%N)
[ "$rc" = 0 ] && ok || { bad "apply exit $rc"; cat "$work/err"; }
took_ms=$(((end - start) / 1000000))
[ "$took_ms" -ge 2000 ] && ok || bad "the apply took ${took_ms} ms, less than the 2 s wait"
[ "$took_ms" -lt 10000 ] && ok || bad "the apply took ${took_ms} ms for a 2 s wait"
grep -qF "waiting for check.drain: 2s left of 2s" "$work/err" && ok || { bad "the wait counts down"; cat "$work/err"; }
[ -f "$work/after" ] && ok || bad "the stage after the wait did not run"
# The flag was written before the wait began, the next stage's file after it ended.
flag_ns=$(stat -c %Y "$work/maintenance.flag")
after_ns=$(stat -c %Y "$work/after")
[ $((after_ns - flag_ns)) -ge 1 ] && ok || bad "the next stage ran $((after_ns - flag_ns)) s after the flag"

finish
