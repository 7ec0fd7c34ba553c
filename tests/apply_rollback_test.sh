#!/usr/bin/env bash
# apply and rollback of a four-stage spec against real files: every stage reached, rolled
# back to every earlier stage and applied forward again, each time checked file by file;
# drift refused, dry runs harmless, a second apply a no-op, two applies never at once.
# Usage: apply_rollback_test.sh PATH_TO_RECONCILE SOURCE_DIR
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" apply

spec=$work/four.toml
cp "$src/tests/testdata/four-stages.toml" "$spec"
root=$work/root
rc() { "$bin" "$@" --var root="$root" >"$work/out" 2>"$work/err"; }

# state NAME: what every file must be after stage NAME ("before" = untouched).
expect() { # expect FILE CONTENT MODE  (CONTENT "-" = absent)
  local f=$root/$1
  if [ "$2" = "-" ]; then
    [ ! -e "$f" ] && ok || bad "$STATE: $1 should be absent"
    return
  fi
  [ -f "$f" ] || { bad "$STATE: $1 missing"; return; }
  [ "$(cat "$f")" = "$(printf "$2")" ] && ok || bad "$STATE: $1 holds '$(cat "$f")', wanted '$2'"
  [ "$(stat -c %a "$f")" = "$3" ] && ok || bad "$STATE: $1 mode $(stat -c %a "$f"), wanted $3"
}
state() {
  STATE=$1
  case $1 in
    before) expect a - ; expect b - ; expect c - ; expect d - ; expect pre 'pre-existing' 644; expect gone 'gone-original' 644 ;;
    one)    expect a 'a1' 644; expect b - ; expect c - ; expect d 'd1' 644; expect pre 'p1' 644; expect gone 'gone-original' 644 ;;
    two)    expect a 'a1' 644; expect b "b2 refers to $root/a" 644; expect c - ; expect d 'd1' 600; expect pre 'p1' 644; expect gone - ;;
    three)  expect a 'a3' 644; expect b "b2 refers to $root/a" 644; expect c 'c3' 600; expect d 'd1' 600; expect pre 'p1' 644; expect gone - ;;
    four)   expect a 'a3' 644; expect b - ; expect c 'c3' 600; expect d 'd4' 600; expect pre 'p1' 644; expect gone - ;;
  esac
}
fresh() {
  rm -rf "$root" "$work/.reconcile"
  mkdir -p "$root"
  printf 'pre-existing\n' >"$root/pre"
  printf 'gone-original\n' >"$root/gone"
  chmod 644 "$root/pre" "$root/gone"
}

fresh
state before
# Without a terminal and without --yes, apply shows the plan and changes nothing.
rc apply "$spec" --through one </dev/null
[ $? -eq 1 ] && ok || bad "apply without --yes and no terminal should refuse"
grep -q "apply needs approval and there is no terminal to ask on; nothing was changed. Review the plan above, then run again with --yes" \
  "$work/err" && ok || bad "the refusal says what to do: $(cat "$work/err")"
# The saved plan's line keeps --through: `apply PLAN` alone would run every stage.
grep -q -- "--out PLAN and run reconcile apply PLAN --through one\.$" "$work/err" && ok ||
  bad "the refusal's saved-plan line keeps --through: $(cat "$work/err")"
grep -q "^   + file.a" "$work/out" && ok || bad "the refused apply showed its plan: $(cat "$work/out")"
state before
rc apply "$spec" --through one --yes && ok || bad "apply --through one: $(cat "$work/err")"
state one
# The end of a run: what it did, each stage's time, and what to run next.
grep -qE "^Apply complete through stage 'one': 2 created, 1 updated, in [0-9.]+m?s\.$" "$work/out" && ok ||
  bad "the counts that end an apply: $(cat "$work/out")"
grep -qE "^  one  2 created, 1 updated  [0-9.]+m?s$" "$work/out" && ok || bad "the stage's line: $(cat "$work/out")"
grep -qxF "Next: reconcile apply $spec --var root=$root --through two runs stage 'two'." "$work/out" &&
  grep -qxF "Undo: reconcile rollback $spec --var root=$root --to STAGE puts the world back as it was after STAGE." "$work/out" &&
  ok || bad "what to run next: $(cat "$work/out")"
rc apply "$spec" --yes && ok || bad "apply: $(cat "$work/err")"
state four
grep -qE "^  four  " "$work/out" && grep -qxF "Next: reconcile plan $spec --var root=$root shows nothing left to do." "$work/out" &&
  ok || bad "the end of the last stage: $(cat "$work/out")"
rc apply "$spec" --yes && ok || bad "second apply"
grep -q "Nothing to do: all 4 stages are complete and the world matches the spec." "$work/out" && ok || bad "second apply should say nothing to do: $(cat "$work/out")"
rc plan "$spec" --detailed-exitcode && ok || bad "plan after apply should be empty"

# Roll back to each earlier stage in turn, then all the way forward again.
for to in three two one; do
  rc rollback "$spec" --to $to --dry-run
  state four
  rc rollback "$spec" --to $to --yes && ok || bad "rollback --to $to: $(cat "$work/err")"
  grep -qE "^Rolled back to the end of stage '$to': .*, in [0-9.]+m?s\.$" "$work/out" && ok ||
    bad "the counts that end a rollback: $(cat "$work/out")"
  # Forward again only as far as it undid.
  grep -qxF "Next: reconcile apply $spec --var root=$root applies again what this undid (stage '$(
    case $to in three) echo four ;; two) echo three ;; one) echo two ;; esac)' on)." "$work/out" && ok ||
    bad "what to run after the rollback: $(cat "$work/out")"
  state $to
  rc apply "$spec" --yes && ok || bad "apply after rollback to $to: $(cat "$work/err")"
  state four
  rc rollback "$spec" --to $to --yes && ok || bad "rollback --to $to (2): $(cat "$work/err")"
  state $to
  rc status "$spec"
  grep -q "complete  $to" "$work/out" && ok || bad "status after rollback to $to: $(cat "$work/out")"
  rc apply "$spec" --yes && ok || bad "apply forward from $to"
  state four
done
# Undone short of the last stage: forward again only as far as it undid.
rc rollback "$spec" --to two --yes && rc apply "$spec" --through three --yes && rc rollback "$spec" --to one --yes &&
  grep -qxF "Next: reconcile apply $spec --var root=$root --through three applies again what this undid (stage 'two' on)." \
    "$work/out" && ok || bad "after a rollback of stages short of the last: $(cat "$work/out" "$work/err")"
rc apply "$spec" --yes && state four && ok || bad "apply forward from one"

# Someone edits a file behind reconcile's back: rollback stops and says what changed.
printf 'hand edit\n' >"$root/a"
rc rollback "$spec" --to two --yes
[ $? -eq 1 ] && ok || bad "drift should refuse"
grep -q "file.a content: reconcile wrote \"a3\\\\n\", now \"hand edit\\\\n\"" "$work/err" && ok || bad "drift message: $(cat "$work/err")"
STATE=drift; expect c 'c3' 600  # nothing was rolled back
rc rollback "$spec" --to two --yes --force && ok || bad "rollback --force: $(cat "$work/err")"
state two

# Without a terminal and without --yes, nothing happens.
rc rollback "$spec" --to one </dev/null
[ $? -eq 1 ] && ok || bad "rollback without --yes and no tty should refuse"
grep -q "there is no terminal to ask on" "$work/err" && ok || bad "refusal says why: $(cat "$work/err")"
state two

# A damaged journal stops everything with the line named.
rc apply "$spec" --yes && ok || bad "apply before damage"
journal=$work/.reconcile/four.journal
cp "$journal" "$work/journal.bak"
sed -i '3s/"seq":2/"seq":7/' "$journal"
rc apply "$spec" --yes
[ $? -eq 1 ] && ok || bad "damaged journal must stop apply"
grep -q "is damaged at line 3" "$work/err" && ok || bad "damage named: $(cat "$work/err")"
cp "$work/journal.bak" "$journal"

# Secrets: with a journal key the old value is sealed and restored by rollback; without one
# the change is irreversible and refused unless allowed. Neither value is ever in the journal.
rm -rf "$work/.reconcile"
printf 'OLD_TOKEN=first-secret\n' >"$root/token"
testdata secret >"$work/secret.toml"
export RECONCILE_TEST_JOURNAL_KEY=journal-key-1 RECONCILE_TEST_TOKEN=second-secret
"$bin" apply "$work/secret.toml" --yes >"$work/out" 2>"$work/err" && ok || bad "apply with a sealed secret: $(cat "$work/err")"
[ "$(cat "$root/token")" = "second-secret" ] && ok || bad "the new secret was written"
grep -q "first-secret\|second-secret" "$work/.reconcile/secret.journal" "$work/out" "$work/err" && bad "a secret reached the journal or the output" || ok
grep -q '"\$sealed"' "$work/.reconcile/secret.journal" && ok || bad "the journal holds sealed values"
"$bin" rollback "$work/secret.toml" --to rotate --yes >"$work/out" 2>"$work/err" && ok || bad "rollback --to rotate"
"$bin" apply "$work/secret.toml" --yes >/dev/null 2>&1
# Back before the rotation: only possible because the old secret was sealed in the journal.
testdata_verbatim secret-back >"$work/secret-back.toml"
sed -n '/^\[file.token\]/,$p' "$work/secret.toml" >>"$work/secret-back.toml"
"$bin" rollback "$work/secret-back.toml" --to before --yes >"$work/out" 2>"$work/err" && ok || bad "rollback --to before: $(cat "$work/err")"
[ "$(cat "$root/token")" = "OLD_TOKEN=first-secret" ] && ok || bad "rollback restored the sealed old secret: $(cat "$root/token")"
grep -q "first-secret\|second-secret" "$work/out" "$work/err" && bad "a secret reached the rollback output" || ok
RECONCILE_TEST_JOURNAL_KEY=wrong-key "$bin" rollback "$work/secret-back.toml" --to before --yes >"$work/out" 2>"$work/err"
[ $? -eq 1 ] && ok || bad "a wrong journal key must not open sealed values"
grep -q "does not open with this key" "$work/err" && ok || bad "wrong key named: $(cat "$work/err")"
# Without a key: the overwrite of a secret is irreversible, refused unless allowed.
rm -rf "$work/.reconcile"
printf 'OLD\n' >"$root/token"
sed -i '/^\[state\]/,/^key/d' "$work/secret.toml"
"$bin" apply "$work/secret.toml" --yes >"$work/out" 2>"$work/err"
[ $? -eq 1 ] && ok || bad "overwriting a secret with no key to keep it must be refused"
grep -q "!~ file.token  (irreversible: the current 'content' is sensitive and would not be kept" "$work/out" && ok || bad "plan marks it: $(cat "$work/out")"
grep -q "pass --allow-irreversible" "$work/err" && ok || bad "refusal says what to do: $(cat "$work/err")"
[ "$(cat "$root/token")" = "OLD" ] && ok || bad "nothing was changed"
"$bin" apply "$work/secret.toml" --yes --allow-irreversible >/dev/null 2>&1 && ok || bad "--allow-irreversible applies"
grep -q '"\$redacted"' "$work/.reconcile/secret.journal" && ok || bad "without a key the value is left out"
unset RECONCILE_TEST_JOURNAL_KEY RECONCILE_TEST_TOKEN

# A saved plan is applied exactly, or refused as stale.
rm -rf "$work/.reconcile" "$root"/*
printf 'pre-existing\n' >"$root/pre"; printf 'gone-original\n' >"$root/gone"
"$bin" plan "$spec" --var root="$root" --out "$work/plan.json" >/dev/null 2>&1
printf 'someone else\n' >"$root/a"
"$bin" apply "$work/plan.json" --yes >"$work/out" 2>"$work/err"
[ $? -eq 1 ] && ok || bad "a plan the world moved away from must be refused"
grep -qF "is stale: the world changed since it was saved, so the steps would differ; save it again and review it: reconcile plan $spec --var root=$root --out $work/plan.json" "$work/err" && ok || bad "stale (world): $(cat "$work/err")"
rm "$root/a"
"$bin" apply "$work/plan.json" --yes --through one >"$work/out" 2>"$work/err" && ok || bad "apply of a saved plan: $(cat "$work/err")"
grep -qxF "Next: reconcile apply PLAN --through two runs stage 'two', after reconcile plan $spec --var root=$root --out PLAN." \
  "$work/out" && ok || bad "after a saved plan, the next stage alone, from a plan saved again: $(cat "$work/out")"
STATE=saved; expect a 'a1' 644
"$bin" apply "$work/plan.json" --yes >"$work/out" 2>"$work/err"
[ $? -eq 1 ] && ok || bad "a plan saved before the journal moved must be refused"
grep -q "is stale: the journal moved since it was saved (record [0-9]* then, [0-9]* now); save it again and review it: reconcile plan " "$work/err" && ok || bad "stale (journal): $(cat "$work/err")"
"$bin" plan "$spec" --var root="$root" --out "$work/plan.json" >/dev/null 2>&1
echo "# edited" >>"$spec"
"$bin" apply "$work/plan.json" --yes >"$work/out" 2>"$work/err"
[ $? -eq 1 ] && ok || bad "a plan saved before the spec changed must be refused"
grep -qF "is stale: the spec (or its overlay or variables) changed since it was saved; save it again and review it: reconcile plan $spec --var root=$root --out $work/plan.json" "$work/err" && ok || bad "stale (spec): $(cat "$work/err")"

# A stage that asks for confirmation is refused without a terminal and without --yes, even in
# a saved plan (which needs no approval to start).
testdata confirm >"$work/confirm.toml"
"$bin" plan "$work/confirm.toml" --out "$work/confirm.json" >/dev/null 2>&1
"$bin" apply "$work/confirm.json" </dev/null >"$work/out" 2>"$work/err"
[ $? -eq 1 ] && ok || bad "confirm without --yes and no terminal"
grep -q "stage 'b' asks for confirmation (traffic moves); there is no terminal to ask on, so pass --yes" "$work/err" && ok || bad "confirm message: $(cat "$work/err")"
[ ! -e "$root/x" ] && ok || bad "nothing of stage b ran"
# A plan saved from a spec given by a relative path is not stale for it: the steps' reasons name
# the spec as each run loaded it.
(cd "$work" && "$bin" plan confirm.toml --out rel.json >/dev/null 2>&1 && "$bin" apply rel.json --yes >out 2>err) &&
  ok || bad "a plan saved from a relative spec path: $(cat "$work/err")"
[ "$(cat "$root/x")" = x ] && ok || bad "the saved plan from a relative path was applied"

# Two operators at once: the first holds the lock while it plans (it reads a source file
# that is a FIFO, so it waits there until this test writes to it); the second is refused
# with the holder's details, or waits for it with --lock-timeout.
testdata lock >"$work/lock.toml"
mkfifo "$work/fifo"
"$bin" apply "$work/lock.toml" --yes >"$work/first.out" 2>&1 &
first=$!
for _ in $(seq 1 100); do [ -s "$work/.reconcile/lock.journal.lock" ] && break; sleep 0.05; done
"$bin" apply "$work/lock.toml" --yes >"$work/out" 2>"$work/err"
[ $? -eq 1 ] && ok || bad "a second apply must be refused while the first holds the lock"
grep -q "is locked by $(id -un)@$(hostname) (pid $first, apply, since " "$work/err" && ok || bad "refusal names the holder: $(cat "$work/err")"
grep -q "force-unlock" "$work/err" && bad "refusal suggests force-unlock for a live holder: $(cat "$work/err")" || ok
"$bin" status "$work/lock.toml" >"$work/out" 2>&1
grep -q "lock: held by .*(pid $first, apply" "$work/out" && ok || bad "status shows the holder: $(cat "$work/out")"
"$bin" force-unlock "$work/lock.toml" 000000000000 >"$work/out" 2>"$work/err"
[ $? -eq 1 ] && ok || bad "force-unlock with the wrong id must refuse"
"$bin" apply "$work/lock.toml" --yes --lock-timeout 20s >"$work/second.out" 2>&1 &
second=$!
sleep 0.3
printf 'slow content\n' >"$work/fifo"
wait $first && ok || bad "first apply: $(cat "$work/first.out")"
printf 'slow content\n' >"$work/fifo" &
wait $second && ok || bad "second apply waited for the lock and ran: $(cat "$work/second.out")"
[ "$(cat "$root/slow")" = "slow content" ] && ok || bad "the first apply wrote the file"
"$bin" status "$work/lock.toml" >"$work/out" 2>&1
grep -q "lock: free" "$work/out" && ok || bad "lock is free after both: $(cat "$work/out")"

finish
