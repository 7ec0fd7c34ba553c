#!/usr/bin/env bash
# Runbooks as they are, through the binary on local files and commands: each stage planned
# from the world as it begins; every edge honoured at apply (a resource after a check, a
# command's check asked after what it follows); a command that happens once, in its stage;
# its rollback by `revert`, or a plan that says up front that it stays; a cut-off one-shot
# step never run again blindly; ${run}: a one-shot step taken again under a new name.
# Usage: runbook_steps_test.sh PATH_TO_RECONCILE SOURCE_DIR
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" runbook
root=$work/root
mkdir -p "$root"
cd "$work" || exit 1
run() { "$bin" "$@" --var root="$root" >out 2>err; }

# 1. A stage whose command removes a file, then a stage that declares that file: the second
# stage is planned when it begins, and puts the file back in the same apply.
testdata_verbatim replan >replan.toml
printf 'x\n' >"$root/f"
run apply replan.toml --yes && ok || bad "replan: apply: $(cat err)"
[ -f "$root/f" ] && ok || bad "replan: the file stage b declares is there after one apply"
grep -q "planned again from the world as it begins" err && grep -q "new  + file.f" err && ok ||
  bad "replan: the new step is announced against the reviewed plan: $(cat err)"
run plan replan.toml --detailed-exitcode && ok || bad "replan: a second plan is empty: $(cat out)"

# 2. A resource after a check starts once the check holds; a command's check is asked after
# what it follows, not when the stage begins.
testdata_verbatim edges >edges.toml
run apply edges.toml --yes && ok || bad "edges: apply: $(cat err)"
[ -f "$root/ok" ] && ok || bad "edges: the command after the check ran once the check held"
[ ! -e "$root/lock" ] && ok || bad "edges: the command's check was asked after what it follows ran"

# 3. Commands happen once, in their stage: not again in later stages, an empty plan after.
testdata_verbatim once >once.toml
run plan once.toml --explain && grep -q "why: command.count runs once, in stage 'a' (once.toml:[0-9]*:[0-9]*), and the journal has no finished run of it" out &&
  ! grep -q "command.count does not exist" out && ok || bad "once: --explain says a command has not run yet: $(cat out)"
run apply once.toml --yes && ok || bad "once: apply: $(cat err)"
[ "$(wc -l <"$root/count")" = 1 ] && ok || bad "once: the command ran $(wc -l <"$root/count") times, not once"
run plan once.toml --detailed-exitcode && ok || bad "once: the plan after apply is not empty: $(cat out)"
run rollback once.toml --to pre --dry-run && ok || bad "once: rollback dry-run: $(cat err)"
grep -q "= command.count  stays: it has no \`revert\`" out && ok || bad "once: the plan says up front the command stays: $(cat out)"
grep -q -- "- command.flag" out && ok || bad "once: the plan reverts the command that has a revert: $(cat out)"
run rollback once.toml --to pre --yes && ok || bad "once: rollback: $(cat err)"
[ ! -e "$root/flag" ] && ok || bad "once: the revert ran"
[ -e "$root/sticky" ] && grep -q "check\` still passes" err && ok ||
  bad "once: a revert whose check still passes is reported, not fatal (revert_check = false): $(cat err)"
[ ! -e "$root/later" ] && ok || bad "once: the later file is removed"
run rollback once.toml --to pre --yes && grep -q "Nothing to roll back" out && ok ||
  bad "once: the rollback run again is empty: $(cat out err)"
run apply once.toml --yes && ok || bad "once: apply again: $(cat err)"
[ "$(wc -l <"$root/count")" = 2 ] && [ -e "$root/flag" ] && ok ||
  bad "once: passing stage a again runs its commands again ($(wc -l <"$root/count") runs)"
run plan once.toml --detailed-exitcode && ok || bad "once: the plan after the second apply is not empty: $(cat out)"

# 3a. A command that happens once is not planned again in a later stage because what it comes
# after changes there (a handler, notified, would be).
testdata_verbatim follow >follow.toml
run plan follow.toml && ok || bad "follow: plan: $(cat err)"
[ "$(sed -n '/^stage b/,$p' out | grep -c "command.reload")" = 0 ] && grep -q "2 to create, 1 to update" out && ok ||
  bad "follow: stage b plans only the file: $(cat out)"
run apply follow.toml --yes && [ "$(cat "$root/reloads")" = v1 ] && ok ||
  bad "follow: the command ran once, in its stage: $(cat "$root/reloads" 2>&1) $(cat err)"

# 3b. Rollback honours the reverse edges: the revert of a command that is after a file runs
# before the file is put back, never beside it (the revert still reads the file it ran with).
testdata_verbatim reverse >reverse.toml
run apply reverse.toml --yes && ok || bad "reverse: apply: $(cat err)"
run rollback reverse.toml --to a --yes && ok || bad "reverse: rollback: $(cat err)"
[ "$(cat "$root/cfg")" = v1 ] && ok || bad "reverse: the file is back"
[ "$(tail -1 "$root/reloads")" = v2 ] && ok || bad "reverse: the revert ran beside the file's restore: $(cat "$root/reloads")"

# 4. A one-shot step with no check, cut off while it ran, is not run again blindly.
testdata_verbatim cutoff >cutoff.toml
"$bin" apply cutoff.toml --var root="$root" --yes >/dev/null 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q '"intent"' .reconcile/cutoff.journal 2>/dev/null && break; sleep 0.1; done
# While it runs, its step is in flight, not cut off: status and plan say so and advise nothing.
run status cutoff.toml; grep -q "started by the run that holds the lock, not finished yet" out &&
  grep -q "(running now)" out && ! grep -q "has no way to tell" out && ok ||
  bad "cutoff: status of a running apply: $(cat out)"
run plan cutoff.toml; grep -q "which is still running: this plan is of the world mid-run" err && ! grep -q "cut off" err &&
  ok || bad "cutoff: plan during a running apply: $(cat err)"
kill -9 "$pid"
wait "$pid" 2>/dev/null
run status cutoff.toml; grep -qE "^last run: apply by .*, cut off before it ended$" out && ok ||
  bad "cutoff: status says the last run was cut off: $(cat out)"
run apply cutoff.toml --yes && bad "cutoff: a cut-off command with no check was run again" ||
  { grep -q -- "to run it again: reconcile apply cutoff.toml --var root=.* --rerun command.slow$" err && ok ||
    bad "cutoff: the refusal gives the command line to copy: $(cat err)"; }
[ ! -e "$root/cut" ] && ok || bad "cutoff: the command did not run again"
run plan cutoff.toml; grep -q "note: command.slow was cut off while it ran" err && grep -q "apply will stop before it" err && ok ||
  bad "cutoff: plan says ahead that apply will stop: $(cat err)"
run status cutoff.toml; grep -q "command.slow has no way to tell whether it ran: apply will stop before it" out &&
  grep -qE "^last run: apply by .*, stopped$" out && ok ||
  bad "cutoff: status says so too: $(cat out)"
run apply cutoff.toml --yes --rerun command.slwo; [ $? = 1 ] &&
  grep -q -- "--rerun command.slwo: the spec declares no such step, did you mean 'command.slow'? Nothing was changed.$" err &&
  [ ! -e "$root/cut" ] && ok || bad "cutoff: a --rerun typo is refused with the name meant: $(cat err)"
run apply cutoff.toml --yes --rerun command.slow && [ "$(wc -l <"$root/cut")" = 1 ] && ok ||
  bad "cutoff: --rerun runs it once: $(cat err)"
# 5. ${run}: a one-shot step of a stage a rollback undid runs again under a new name when apply
# passes the stage again; what refers to it follows; the old file stays.
testdata_verbatim run >run.toml
echo rows1 >"$root/db"
run apply run.toml --yes && [ -f "$root/db-1.dump" ] && ok || bad "run: first apply: $(cat err)"
echo rows2 >>"$root/db"
# Killed right after its first record, then run again: one going back, so ${run} is 2, not 3.
records=$(($(wc -l <.reconcile/run.journal) - 1))
crash_after $((records + 1)) "$bin" rollback run.toml --to prepare --yes --var root="$root" >/dev/null 2>&1
[ $? = 137 ] && ok || bad "run: the rollback was killed after its first record"
run plan run.toml; grep -q "note: the rollback to stage 'prepare' started .* did not finish (it was cut off), so the stages after it are not complete. Finish it: reconcile rollback run.toml --var root=.* --to prepare; or go forward: reconcile apply run.toml" err &&
  ok || bad "run: plan tells of the rollback cut off: $(cat err)"
run rollback run.toml --to switch --yes
[ $? = 1 ] && grep -q "error: cannot roll back to the end of stage 'switch', and nothing was changed: a rollback does not run a stage again (apply does), and the rollback to stage 'prepare' started .* did not finish (it was cut off)" err &&
  ! grep -q "Nothing to roll back" out && ok ||
  bad "run: a rollback to a stage a cut-off one undid in part is refused: $(cat out err)"
run rollback run.toml --to prepare --yes && ok || bad "run: rollback: $(cat err)"
run plan run.toml && grep -q "db-2.dump" out && ok || bad "run: the plan shows the new name: $(cat out)"
run apply run.toml --yes && ok || bad "run: apply again: $(cat err)"
[ "$(cat "$root/db-1.dump")" = rows1 ] && [ "$(cat "$root/newdb")" = "$(printf 'rows1\nrows2')" ] && ok ||
  bad "run: a new snapshot with the rows since, restored; the old one kept: $(ls "$root")"
run rollback run.toml --to freeze --yes && run apply run.toml --yes && [ ! -e "$root/db-3.dump" ] && ok ||
  bad "run: a rollback that keeps the snapshot's stage does not take it again: $(ls "$root")"
printf 'version = 1\nname = "v"\nstages = ["a"]\n[vars]\nx = "${run}"\n' >runvar.toml
run validate runvar.toml; grep -q "runvar.toml:5:6: error: '\${run}' in variable 'x'" err && ok || bad "run: \${run} outside a resource: $(cat err)"

# 6. Rollback of a chain of one-shot steps: every revert runs, dependents first, in one rollback
# (a revert that waits on another was once read as "already absent" and skipped).
testdata_verbatim chain >chain.toml
run apply chain.toml --yes && [ -e "$root/first" ] && [ -e "$root/second" ] && ok || bad "chain: apply: $(cat err)"
run rollback chain.toml --to base --yes && ok || bad "chain: rollback: $(cat err)"
[ ! -e "$root/first" ] && [ ! -e "$root/second" ] && ok || bad "chain: both reverts ran in one rollback: $(ls "$root")"
run rollback chain.toml --to base --yes && grep -q "Nothing to roll back" out && ok ||
  bad "chain: a second rollback has nothing to do: $(cat out)"

# 7. Output read through a pipe that closes early does not cut a rollback short.
run apply chain.toml --yes || bad "pipe: apply: $(cat err)"
"$bin" rollback chain.toml --to base --yes --var root="$root" 2>&1 | head -1 >/dev/null
[ ! -e "$root/first" ] && [ ! -e "$root/second" ] && ok || bad "pipe: the rollback finished though its output was cut: $(ls "$root")"

# 8. A one-shot step cut off while it ran (no check) is gone back from by a rollback; a revert
# cut off is not run again blindly: the rollback stops and asks for --rerun.
testdata_verbatim cut >cut.toml
journal_records() { echo $(($(wc -l <.reconcile/cut.journal) - 1)); }
run apply cut.toml --through base --yes || bad "cut: apply base: $(cat err)"
crash_after $(($(journal_records) + 2)) "$bin" apply cut.toml --yes --var root="$root" >/dev/null 2>&1
[ $? = 137 ] && ok || bad "cut: the apply was killed after command.first's intent"
run rollback cut.toml --to base --yes && grep -q "cut off: while it ran in stage 'work': it may have partly happened" out && ok ||
  bad "cut: the rollback goes back from the cut-off step and says so: $(cat out) $(cat err)"
run status cut.toml; ! grep -q "never finished" out && ok || bad "cut: nothing left pending: $(cat out)"
run apply cut.toml --yes && [ -e "$root/cfirst" ] && ok || bad "cut: apply runs it afresh: $(cat err)"
crash_after $(($(journal_records) + 2)) "$bin" rollback cut.toml --to base --yes --var root="$root" >/dev/null 2>&1
[ $? = 137 ] && ok || bad "cut: the rollback was killed after the revert's intent"
run rollback cut.toml --to base --yes; [ $? = 1 ] && grep -q "not run again blindly" err &&
  grep -q -- "to run it again: reconcile rollback cut.toml --var root=.* --to base --rerun command.first$" err &&
  [ -e "$root/cfirst" ] && ok ||
  bad "cut: a cut-off revert is not rerun blindly: $(cat out) $(cat err)"
run status cut.toml; grep -q "rollback will stop before it, and apply before anything" out &&
  grep -q "command.first: its .revert. in a rollback to stage 'base', started" out && ok || bad "cut: status says so: $(cat out)"
# Nor does apply take the step as done, the revert having maybe run: it says to finish the rollback.
run apply cut.toml --yes; [ $? = 1 ] && grep -q "apply cannot tell whether it is still done; nothing was changed" err &&
  grep -q -- "rollback cut.toml --var root=.* --to base --rerun command.first" err && [ -e "$root/cfirst" ] && ok ||
  bad "cut: apply after a cut-off revert stops and says to finish the rollback: $(cat out) $(cat err)"
run plan cut.toml; grep -q "apply will stop before anything" err && grep -q -- "--to base --rerun command.first" err &&
  ok || bad "cut: plan says apply will stop: $(cat err)"
grep -q "^But apply will stop before anything: command.first was cut off while its .revert. ran .*, so the rollback is not finished.$" out && ok ||
  bad "cut: the plan itself says apply will stop, not only a note: $(cat out)"
run plan cut.toml --json; grep -q '"apply_stops": "command.first was cut off while its' out && ok ||
  bad "cut: plan --json says apply will stop: $(cat out)"
run plan cut.toml --detailed-exitcode; [ $? = 2 ] && ok || bad "cut: plan --detailed-exitcode is not 0 (nothing to do) with a rollback left to finish"
# Nor does a rollback to the stage the cut-off one undid say it is back there: it says how to finish.
run rollback cut.toml --to work --yes; [ $? = 1 ] && grep -q "cannot roll back to the end of stage 'work'" err &&
  grep -q -- "to run it again: reconcile rollback cut.toml --var root=.* --to base --rerun command.first$" err &&
  ! grep -q "Rolled back" out && [ -e "$root/cfirst" ] && ok ||
  bad "cut: a rollback to the later stage is refused, with the way to finish: $(cat out) $(cat err)"
# The rollback that finishes it is cut off in turn, before its revert: still known as unfinished.
crash_after $(($(journal_records) + 1)) "$bin" rollback cut.toml --to base --yes --var root="$root" --rerun command.first \
  >/dev/null 2>&1
[ $? = 137 ] && ok || bad "cut: the finishing rollback was killed after its beginning"
run rollback cut.toml --to base --yes --rerun command.first && [ ! -e "$root/cfirst" ] && ok ||
  bad "cut: --rerun runs the revert: $(cat err)"
grep -q "^Next: reconcile apply cut.toml --var root=[^ ]* applies again what this undid" out && ok ||
  bad "cut: finishing the rollback says what applies again, as a whole rollback does: $(cat out)"
run rollback cut.toml --to base --yes && grep -q "Nothing to roll back" out && ok || bad "cut: then nothing is left: $(cat out)"

# 9. Stages go back in reverse: a later stage's revert before an earlier one's, and reverts of
# a chain through a step with no revert, the far end first.
testdata_verbatim order >order.toml
run apply order.toml --yes || bad "order: apply: $(cat err)"
run rollback order.toml --to base --yes || bad "order: rollback: $(cat err)"
[ ! -e "$root/flag" ] && ok || bad "order: s2's revert ran before s1's (flag is as at the end of base)"
[ "$(cat "$root/events" 2>&1)" = "$(printf -- '-c\n-a')" ] && ok || bad "order: c's revert before a's: $(cat "$root/events" 2>&1)"

# 10. A revert that fails: the rollback says to fix the cause before running it again (run again
# as it is, it fails the same way).
cat >fails.toml <<'EOF_SPEC'
version = 1
name = "fails"
stages = ["base", "work"]
[command.step]
stage = "work"
host = "local"
apply = ["true"]
revert = ["false"]
EOF_SPEC
run apply fails.toml --yes || bad "fails: apply: $(cat err)"
run rollback fails.toml --to base --yes; [ $? = 1 ] &&
  grep -q "fix what stopped it (above), then run the same rollback again to continue" err && ok ||
  bad "fails: a failed revert says to fix the cause first: $(cat err)"

finish
