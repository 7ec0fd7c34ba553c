#!/usr/bin/env bash
# A stage that is watched and rolls back by itself (on_failure = "rollback"), through the
# binary on local files: a watched stage takes its window and completes; a check failing at the
# stage's end, a check that stops holding while it is watched (its own or a watch_checks one)
# and a failing step each roll the world back to the end of the stage before, and apply exits 1
# saying so. Then apply is killed after every journal record of such a run (the failed stage and
# its automatic rollback) and during a watch; the next run converges. Bad settings are spec
# errors at their place.
# Usage: on_failure_test.sh PATH_TO_RECONCILE SOURCE_DIR
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" on_failure
cd "$work" || exit 1
root=$work/root
watch=3s
spec=$work/site.toml
testdata site >"$spec"
journal=$work/.reconcile/site.journal
run() { "$bin" "$@" >out 2>err; }
fresh() { rm -rf "$root" .reconcile broken announce-fails; mkdir -p "$root"; }
world() { (cd "$root" && for f in $(ls | sort); do printf '%s=%s ' "$f" "$(cat "$f")"; done); }
records() { [ -f "$journal" ] && echo $(($(wc -l <"$journal") - 1)) || echo 0; }
ms() { echo $(($(date +%s%N) / 1000000)); }
want_prepare="backup=kept upstream.conf=old "
want_switch="announced=switched backup=kept switched=yes upstream.conf=new "
same() { [ "$(world)" = "$2" ] && ok || bad "$1: the world is '$(world)', not '$2'"; }
rolled_back() { # rolled_back WHAT: apply exited 1 after rolling back to prepare by itself
  [ "$rc" -eq 1 ] && ok || bad "$1: apply exited $rc, not 1: $(cat err)"
  grep -qF "stage 'switch' has on_failure = \"rollback\": rolling back to the end of stage 'prepare'" err && ok ||
    bad "$1: the rollback is announced: $(cat err)"
  grep -qF "Automatic rollback (stage 'switch' failed) of site to the end of stage 'prepare'" out && ok ||
    bad "$1: the rollback's plan is shown: $(cat out)"
  grep -qF "error: stage 'switch' failed, so the world was rolled back to the end of stage 'prepare' (on_failure = \"rollback\"); fix the cause, then apply again" err &&
    ok || bad "$1: the last word says what happened and what to do: $(cat err)"
  same "$1" "$want_prepare"
}

fresh
run apply "$spec" --through prepare --yes && ok || bad "apply prepare: $(cat err)"
same "prepare" "$want_prepare"

# A healthy switch is watched for its window, then counts as complete.
t0=$(ms)
run apply "$spec" --through switch --yes && ok || bad "watched apply: $(cat err)"
took=$(($(ms) - t0))
[ "$took" -ge 3000 ] && ok || bad "the watched stage took ${took} ms, less than its 3s window"
same "switch" "$want_switch"
grep -qF "reconcile: stage switch is watched for 3s: 2 checks asked every 500ms" err && ok || bad "the watch is announced: $(cat err)"
grep -qF "reconcile: stage switch: every check held for the 3s it was watched" err && ok || bad "the watch's end: $(cat err)"
grep -qE "^  switch +2 created, 1 updated, 1 check held +3s$" out && ok || bad "the stage's time includes its watch: $(cat out)"
run rollback "$spec" --to prepare --yes && ok || bad "manual rollback: $(cat err)"
same "rolled back by hand" "$want_prepare"

# A check failing at the stage's end: rolled back by itself.
touch broken
run apply "$spec" --yes
rc=$?
rolled_back "a check failing at the end of the stage"
grep -qF "stage 'switch' is not complete:" err && grep -q "check.healthy" err && ok || bad "the failure names the check: $(cat err)"
! grep -q "watched for" err && ok || bad "a stage whose check failed is not watched: $(cat err)"
run status "$spec"
grep -q "switch" out && ! grep -qE "switch.*complete" out && ok || bad "status: switch is not complete: $(cat out)"
rm broken

# A check that stops holding while the stage is watched.
(sleep 1.5 && touch broken) &
run apply "$spec" --yes
rc=$?
wait
rolled_back "a check failing while watched"
grep -qE "stage 'switch' failed while it was watched, [0-9.]+m?s into 3s: check.healthy did not hold within 1s" err && ok ||
  bad "the watch's failure names the check and when: $(cat err)"
rm broken

# A watch_checks check of an earlier stage that stops holding.
(sleep 1.5 && rm "$root/backup") &
run apply "$spec" --yes
rc=$?
wait
[ "$rc" -eq 1 ] && ok || bad "watch_checks failure: exit $rc"
grep -qF "failed while it was watched" err && grep -qF "check.old_backup_kept did not hold" err && ok ||
  bad "the watched check of an earlier stage: $(cat err)"
[ "$(cat "$root/upstream.conf")" = old ] && [ ! -e "$root/announced" ] && [ ! -e "$root/switched" ] && ok ||
  bad "rolled back after a watch_checks failure: $(world)"
printf 'kept\n' >"$root/backup"

# A step that fails.
touch announce-fails
run apply "$spec" --yes
rc=$?
rolled_back "a failing step"
grep -qF "command.announce" err && ok || bad "the failure names the step: $(cat err)"
rm announce-fails

# --json: the automatic rollback is a run of its own in the events.
touch broken
"$bin" apply "$spec" --yes --json >out 2>err
rc=$?
[ "$rc" -eq 1 ] && ok || bad "--json apply exit $rc"
python3 - err <<'PY' && ok || bad "--json events of an automatic rollback: $(cat err)"
import json, sys
events = [json.loads(line) for line in open(sys.argv[1]) if line.startswith("{")]
runs = [(e["event"], e["op"], e.get("result")) for e in events if e["event"] in ("run_started", "run_finished")]
assert runs == [("run_started", "apply", None), ("run_finished", "apply", "failed"),
                ("run_started", "rollback", None), ("run_finished", "rollback", "ok")], runs
assert events[-1]["event"] == "error" and "rolled back" in events[-1]["message"], events[-1]
PY
same "--json" "$want_prepare"

# Killed after every journal record of a run that fails and rolls back by itself: the same
# apply again converges on the world after prepare (the cause is still there, so it fails and
# rolls back again); the rollback the last word names converges there too.
fresh
run apply "$spec" --through prepare --yes || bad "crash base: $(cat err)"
rm -rf "$work/base" && mkdir "$work/base" && cp -a "$root" .reconcile "$work/base/"
base=$(records)
touch broken
run apply "$spec" --yes
n=$(($(records) - base))
[ "$n" -ge 10 ] && ok || bad "a failed, rolled back switch writes a dozen records or so, not $n"
trials=0
for k in $(seq $((base + 1)) $((base + n))); do
  rm -rf "$root" .reconcile && cp -a "$work/base/root" "$work/base/.reconcile" "$work/"
  crash_after "$k" "$bin" apply "$spec" --yes >out 2>err
  code=$?
  [ "$code" -eq 137 ] && ok || bad "apply with a crash after record $k exited $code, not 137"
  if [ $((k % 2)) -eq 0 ]; then
    run apply "$spec" --yes
    rc=$?
    rolled_back "killed after record $k, applied again"
  else
    run rollback "$spec" --to prepare --yes && ok || bad "killed after record $k, rolled back: $(cat err)"
    same "killed after record $k, rolled back" "$want_prepare"
  fi
  run rollback "$spec" --to prepare --yes && grep -q "Nothing to roll back" out && ok ||
    bad "killed after record $k: converged (nothing left to roll back): $(cat out err)"
  trials=$((trials + 1))
done
rm broken

# Killed while the stage is watched: the next apply watches it again, then completes it.
rm -rf "$root" .reconcile && cp -a "$work/base/root" "$work/base/.reconcile" "$work/"
"$bin" apply "$spec" --yes >out 2>err &
pid=$!
for _ in $(seq 1 100); do grep -q "is watched for" err 2>/dev/null && break; sleep 0.05; done
sleep 1
kill -KILL "$pid"
wait "$pid" 2>/dev/null
run apply "$spec" --through switch --yes && ok || bad "apply after a kill during the watch: $(cat err)"
grep -qF "every check held for the 3s it was watched" err && ok || bad "watched again after the kill: $(cat err)"
same "killed while watched, applied again" "$want_switch"
echo "crash trials of an automatic rollback: $trials"

# The first stage has nothing before it to roll back to; bad values are errors at their place.
testdata first >first.toml
run validate first.toml
[ $? -eq 1 ] && grep -qF "first.toml:6:14: error: 'on_failure' of [stage.prepare]: it is the first stage, so there is no stage before it to roll back to" err &&
  ok || bad "on_failure = rollback on the first stage: $(cat err)"
testdata bad >bad.toml
run validate bad.toml
[ $? -eq 1 ] && ok || bad "bad.toml must not validate"
for want in "bad.toml:4:14: error: 'on_failure' must be \"stop\"" \
  "bad.toml:7:9: error: 'watch' of [stage.switch] must be a duration" \
  "bad.toml:8:17: error: 'watch_checks' of [stage.switch] names 'file.a', which is not a check (file)" \
  "bad.toml:9:12: error: 'downtime' of [stage.switch] must be \"starts\" or \"ends\"" \
  "bad.toml:12:17: error: 'watch_checks' of [stage.prepare] names check.later of stage 'switch', which comes later" \
  "bad.toml:12:1: error: [stage.prepare] has watch_checks but no watch"; do
  grep -qF -- "$want" err && ok || bad "expected: $want; got: $(cat err)"
done

finish
