#!/usr/bin/env bash
# Crash safety, with real kills: apply and rollback of the four-stage spec are SIGKILLed
# right after every journal record (every step boundary: before a step, after it, after each
# stage checkpoint) and at random moments; each time the next run must converge to the right
# files, and the journal must stay readable.
# With CRASH_JOURNAL=postgres (and the lab running) the journal is the shared PostgreSQL one.
# With CRASH_CHECKPOINT=1 every run ends by writing the file journal's checkpoint (a large
# file makes each run's records outgrow the 64 KiB after which one is written), each trial
# starts from a journal that already holds a whole apply and rollback and their checkpoint,
# each run's summary is checked against a read of every record, and runs are also killed as
# the checkpoint is renamed into place (just before, just after).
# Usage: crash_test.sh PATH_TO_RECONCILE SOURCE_DIR
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" crash
trials=0

spec=$work/four.toml
cp "$src/tests/testdata/four-stages.toml" "$spec"
# Two steps that happen once: one a rollback reverts, one that stays (its record is journaled
# after the rollback's steps), and a handler, so their records are killed at too.
testdata_verbatim mark >>"$spec"
sed -i '/^\[file.a\]$/a notify = ["command.reload"]' "$spec"
root=$work/root
journal=$work/.reconcile/four.journal
run() { "$bin" "$@" --var root="$root" --yes >"$work/out" 2>"$work/err"; }

if [ "${CRASH_JOURNAL:-file}" = postgres ]; then
  . "${RECONCILE_LAB_ENV:?the postgres journal needs the lab}"
  name="four-crash-$$"
  sed -i "s/^name = \"four\"/name = \"$name\"/" "$spec"
  printf '\n[state]\nurl = "postgres://%s@%s:%s/postgres"\npassword = "env:CRASH_PG_PASSWORD"\n' \
    "$PG_USER" "$PG_HOST" "$PG_PORT" >>"$spec"
  export CRASH_PG_PASSWORD=$PG_PASSWORD
  sql() { PGPASSWORD=$PG_PASSWORD "$PG_BIN/psql" -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc "$1"; }
  records() { sql "select count(*) from reconcile_journal where journal = '$name'" 2>/dev/null || echo 0; }
  forget() { sql "delete from reconcile_journal where journal = '$name'" >/dev/null 2>&1; }
else
  records() { [ -f "$journal" ] && echo $(($(wc -l <"$journal") - 1)) || echo 0; }
  forget() { :; }
fi

checkpointed=${CRASH_CHECKPOINT:-}
if [ -n "$checkpointed" ]; then
  # A file of 40 KB changed at stage three: every run writes more than the 64 KiB of records
  # after which it ends with a checkpoint.
  big=$(head -c 40000 /dev/zero | tr '\0' 'x')
  printf '\n[file.big]\nstage = "one"\nhost = "local"\npath = "${vars.root}/big"\ncontent = "one %s\\n"\n' "$big" >>"$spec"
  printf '[file.big.at.three]\ncontent = "three %s\\n"\n' "$big" >>"$spec"
  # And a secret, sealed with the journal's key: the checkpoint keeps the key's salt.
  export CRASH_JOURNAL_KEY=crash-key CRASH_SECRET_ONE=first-secret-9431 CRASH_SECRET_THREE=third-secret-2207
  printf '\n[state]\nkey = "env:CRASH_JOURNAL_KEY"\n[file.secret]\nstage = "one"\nhost = "local"\n' >>"$spec"
  printf 'path = "${vars.root}/secret"\ncontent = "env:CRASH_SECRET_ONE"\n' >>"$spec"
  printf '[file.secret.at.three]\ncontent = "env:CRASH_SECRET_THREE"\n' >>"$spec"
fi
base=0  # the records a trial's journal starts with
fresh() {
  rm -rf "$root" "$work/.reconcile"
  if [ -n "$checkpointed" ] && [ -d "$work/seed" ]; then
    cp -a "$work/seed/root" "$root"
    cp -a "$work/seed/state" "$work/.reconcile"
    return
  fi
  forget
  mkdir -p "$root"
  printf 'pre-existing\n' >"$root/pre"
  printf 'gone-original\n' >"$root/gone"
}
# The files after all four stages, and after rolling back to stage one.
snapshot() { (cd "$root" && for f in $(ls | sort); do printf '%s %s %s\n' "$f" "$(stat -c %a "$f")" "$(sha256sum <"$f" | cut -c1-16)"; done); }

fresh
run apply "$spec" || bad "reference apply: $(cat "$work/err")"
want_four=$(snapshot)
apply_records=$(records)
run rollback "$spec" --to one || bad "reference rollback: $(cat "$work/err")"
want_one=$(snapshot)
echo "$want_four" | grep -q '^marked ' && echo "$want_four" | grep -q '^noted ' && ok || bad "the commands ran: $want_four"
[ "$(cat "$root/reloaded")" = a1 ] && ok || bad "the rollback ran the handler after a went back"
! echo "$want_one" | grep -q '^marked ' && echo "$want_one" | grep -q '^noted ' && ok ||
  bad "rollback reverted the one command and left the other: $want_one"
rollback_records=$(($(records) - apply_records))
[ "$apply_records" -gt 20 ] && ok || bad "expected a few dozen records, got $apply_records"
if [ -n "$checkpointed" ]; then
  [ -s "$journal.checkpoint" ] && ok || bad "no checkpoint was written at the rollback's end"
  grep -q -e first-secret -e third-secret "$journal.checkpoint" && bad "a secret in clear in the checkpoint" || ok
  [ "$(cat "$root/secret")" = first-secret-9431 ] && ok || bad "the rollback put the first secret back"
  mkdir -p "$work/seed" && cp -a "$root" "$work/seed/root" && cp -a "$work/.reconcile" "$work/seed/state"
  base=$(records)
  # From there an apply goes forward from stage one only: its records, and its rollback's.
  fresh
  run apply "$spec" || bad "apply from the seed: $(cat "$work/err")"
  apply_records=$(($(records) - base))
  run rollback "$spec" --to one || bad "rollback from the seed: $(cat "$work/err")"
  rollback_records=$(($(records) - base - apply_records))
fi

converged() { # converged WHAT WANT
  if [ "$(snapshot)" = "$2" ]; then ok; else bad "$1: files differ"; diff <(echo "$2") <(snapshot) | sed 's/^/    /'; fi
  "$bin" status "$spec" --var root="$root" >"$work/status" 2>&1 && ok || bad "$1: journal unreadable: $(cat "$work/status")"
  # A step cut off by the kill and found done by the re-run is closed, not a ghost.
  ! grep -q "never finished" "$work/status" && ok || bad "$1: status still lists a step never finished"
  if [ -n "$checkpointed" ] && [ -f "$journal.checkpoint" ]; then
    # What the checkpoint and the records after it add up to is what every record does.
    mv "$journal.checkpoint" "$work/aside"
    "$bin" status "$spec" --var root="$root" >"$work/status.all" 2>&1
    mv "$work/aside" "$journal.checkpoint"
    diff "$work/status" "$work/status.all" >/dev/null && ok || bad "$1: status from the checkpoint differs"
  fi
}

# Apply killed after each record k, then applied again.
for k in $(seq 1 "$apply_records"); do
  trials=$((trials + 1))
  fresh
  # In the background and waited for, so the shell does not print "Killed" for each trial.
  crash_after "$((base + k))" "$bin" apply "$spec" --var root="$root" --yes >/dev/null 2>&1
  code=$?
  [ $code -eq 137 ] && ok || bad "apply with a crash after record $k exited $code, not 137 (SIGKILL)"
  [ "$(records)" -eq "$((base + k))" ] && ok || bad "after a crash at record $k the journal has $(records) records"
  run apply "$spec" || bad "apply after a crash at record $k: $(cat "$work/err")"
  converged "apply killed after record $k" "$want_four"
  grep -c "complete  " "$work/status" | grep -q '^4$' && ok || bad "after crash $k: not all stages complete"
done

# Rollback killed after each of its records, then run again.
for i in $(seq 1 "$rollback_records"); do
  trials=$((trials + 1))
  fresh
  run apply "$spec" || bad "apply before rollback crash $i"
  k=$(($(records) + i))
  crash_after "$k" "$bin" rollback "$spec" --to one --var root="$root" --yes >/dev/null 2>&1
  code=$?
  [ $code -eq 137 ] && ok || bad "rollback with a crash after record $k exited $code"
  run rollback "$spec" --to one || bad "rollback after a crash at record $k: $(cat "$work/err")"
  converged "rollback killed after its record $i" "$want_one"
  run apply "$spec" || bad "apply forward after rollback crash $i: $(cat "$work/err")"
  converged "apply forward after rollback crash $i" "$want_four"
done

# Killed as the checkpoint is renamed into place, at the end of an apply and of a rollback.
if [ -n "$checkpointed" ]; then
  for when in before after; do
    trials=$((trials + 1))
    fresh
    RECONCILE_CRASH_AT_CHECKPOINT=$when crash_after 0 "$bin" apply "$spec" --var root="$root" --yes >/dev/null 2>&1
    code=$?
    [ $code -eq 137 ] && ok || bad "apply killed $when its checkpoint's rename exited $code"
    converged "apply killed $when its checkpoint's rename" "$want_four"
    run apply "$spec" || bad "apply after a kill $when the checkpoint's rename: $(cat "$work/err")"
    converged "apply again after a kill $when the checkpoint's rename" "$want_four"
    [ ! -e "$journal.checkpoint.tmp" ] && ok || bad "a checkpoint left half written ($when) outlived the next run"
    RECONCILE_CRASH_AT_CHECKPOINT=$when crash_after 0 "$bin" rollback "$spec" --to one --var root="$root" --yes \
      >/dev/null 2>&1
    code=$?
    [ $code -eq 137 ] && ok || bad "rollback killed $when its checkpoint's rename exited $code"
    converged "rollback killed $when its checkpoint's rename" "$want_one"
    run rollback "$spec" --to one || bad "rollback after a kill $when the checkpoint's rename: $(cat "$work/err")"
    converged "rollback again after a kill $when the checkpoint's rename" "$want_one"
  done
fi

# Killed from outside at random moments, mid-write included.
for t in $(seq 1 15); do
  trials=$((trials + 1))
  fresh
  "$bin" apply "$spec" --var root="$root" --yes >/dev/null 2>&1 &
  pid=$!
  sleep "0.00$((RANDOM % 10))$((RANDOM % 10))"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  run apply "$spec" || bad "apply after a random kill ($t): $(cat "$work/err")"
  converged "random kill $t" "$want_four"
done

echo "crash trials: $trials (${CRASH_JOURNAL:-file} journal${checkpointed:+, checkpointed})"
finish
