#!/usr/bin/env bash
# The reconcile binary as an operator runs it: exit codes, where output goes, saved plans,
# error rendering, and that no secret reaches stdout, stderr or a plan file.
# Usage: cli_test.sh PATH_TO_RECONCILE SOURCE_DIR
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" cli

expect_rc() { # expect_rc WANT GOT WHAT
  if [ "$1" = "$2" ]; then ok; else bad "$3: exit $2, wanted $1"; fi
}
expect_in() { # expect_in FILE TEXT WHAT
  if grep -qF -- "$2" "$1"; then ok; else bad "$3: '$2' not in $1:"; sed 's/^/    /' "$1"; fi
}
expect_not_in() {
  if grep -qF -- "$2" "$1"; then bad "$3: '$2' found in $1"; else ok; fi
}

example=$src/examples/local-files.toml
root=$work/root
mkdir -p "$root"

# --version: the project's version, as CMake has it, on stdout.
"$bin" --version >"$work/out" 2>"$work/err"
expect_rc 0 $? "--version"
[ "$(cat "$work/out")" = "reconcile $(sed -n 's/^project(reconcile VERSION \([0-9.]*\).*/\1/p' "$src/CMakeLists.txt")" ] &&
  ok || bad "--version says: $(cat "$work/out" "$work/err")"

# validate: spec only
"$bin" validate "$example" >"$work/out" 2>"$work/err"
expect_rc 0 $? "validate example"
expect_in "$work/out" "local-files.toml: valid: 3 stages, 3 resources, 1 check" "validate summary"
[ ! -s "$work/err" ] && ok || bad "validate of the example warns: $(cat "$work/err")"
# A setting written below [vars] is a variable: it loads, with a warning at its line.
{ printf 'version = 1\nname = "w"\nstages = ["one"]\n[vars]\nroot = "/tmp"\non_failure = "rollback"\n'; } >"$work/warn.toml"
"$bin" validate "$work/warn.toml" >"$work/out" 2>"$work/err"
expect_rc 0 $? "validate of a setting below [vars]"
expect_in "$work/err" "warn.toml:6:1: warning: 'on_failure' written below [vars] is a variable, not the spec's setting" \
  "the warning of a setting below [vars]"
expect_in "$work/err" "move it above the first [table]" "the warning's way out"

# plan with changes: 0 plainly, 2 with --detailed-exitcode; the plan on stdout, progress on stderr
"$bin" plan "$example" --var root="$root" >"$work/out" 2>"$work/err"
expect_rc 0 $? "plan"
expect_in "$work/out" "   + file.maintenance" "plan shows a create"
expect_in "$work/out" "Plan: 3 to create, 1 to update, 2 to delete, 1 check, 0 irreversible." "plan summary"
expect_not_in "$work/out" "probing" "progress stays off stdout"
expect_in "$work/err" "probing" "progress on stderr"
"$bin" plan "$example" --var root="$root" --detailed-exitcode >/dev/null 2>&1
expect_rc 2 $? "detailed exit code with changes"
[ -z "$(ls -A "$root")" ] && ok || bad "plan must not change the world"

# --json and --out: the same document; --out writes it whole
"$bin" plan "$example" --var root="$root" --json --out "$work/plan.json" >"$work/out" 2>"$work/err"
expect_rc 0 $? "plan --json --out"
expect_in "$work/out" '"format_version": 1' "json on stdout"
expect_in "$work/plan.json" '"sha256": "' "saved plan carries the spec hash"
expect_in "$work/err" "plan saved to $work/plan.json" "saved plan is announced"
cmp -s "$work/out" "$work/plan.json" && ok || bad "--out and --json should be the same document"

# --out through a symbolic link of one's own writes the file it names, and the link stays; to a FIFO it
# writes into the FIFO (renamed over, both were replaced by a file); a dangling link or a
# folder is refused.
mkdir -p "$work/saved"
printf 'old\n' >"$work/saved/real.json"
ln -s saved/real.json "$work/link.json"
"$bin" plan "$example" --var root="$root" --out "$work/link.json" >/dev/null 2>"$work/err"
expect_rc 0 $? "plan --out through a symbolic link"
[ -L "$work/link.json" ] && ok || bad "--out replaced the symbolic link"
cmp -s "$work/saved/real.json" "$work/plan.json" && ok || bad "--out did not write the file the link names"
mkfifo "$work/plan.fifo"
cat "$work/plan.fifo" >"$work/from-fifo" &
reader=$!
"$bin" plan "$example" --var root="$root" --out "$work/plan.fifo" >/dev/null 2>"$work/err"
expect_rc 0 $? "plan --out to a FIFO"
wait "$reader"
[ -p "$work/plan.fifo" ] && ok || bad "--out replaced the FIFO"
cmp -s "$work/from-fifo" "$work/plan.json" && ok || bad "--out did not write into the FIFO"
ln -s saved/none.json "$work/dangling.json"
"$bin" plan "$example" --var root="$root" --out "$work/dangling.json" >/dev/null 2>"$work/err"
expect_rc 1 $? "plan --out to a dangling link"
expect_in "$work/err" "is a symbolic link to a file that does not exist" "a dangling link is refused"
[ ! -e "$work/saved/none.json" ] && ok || bad "a dangling link's file was made"
# A link or a FIFO another user made in a folder anyone may write to (as /tmp) names, or hands
# the plan to, what they chose: refused.
mkdir -m 1777 "$work/shared"
printf 'theirs\n' >"$work/saved/victim.json"
ln -s ../saved/victim.json "$work/shared/foreign.json"
mkfifo "$work/shared/foreign.fifo"
chown -h 65534:65534 "$work/shared/foreign.json" "$work/shared/foreign.fifo"
for planted in foreign.json foreign.fifo; do
  "$bin" plan "$example" --var root="$root" --out "$work/shared/$planted" >/dev/null 2>"$work/err"
  expect_rc 1 $? "plan --out to another user's $planted"
  expect_in "$work/err" "another user made it, in a folder anyone may write to" "another user's $planted is refused"
done
[ "$(cat "$work/saved/victim.json")" = theirs ] && ok || bad "the file another user's link names was written"
"$bin" plan "$example" --var root="$root" --out "$work/saved" >/dev/null 2>"$work/err"
expect_rc 1 $? "plan --out to a folder"
expect_in "$work/err" "it is a folder" "a folder is refused"
# Output that cannot be written is an error, as coreutils end.
"$bin" plan "$example" --var root="$root" >/dev/full 2>"$work/err"
expect_rc 1 $? "plan to a full stdout"
expect_in "$work/err" "cannot write the output: No space left on device" "a full stdout is said"

# --stage and --explain
"$bin" plan "$example" --var root="$root" --stage cleanup --explain >"$work/out" 2>/dev/null
expect_in "$work/out" "why: [file.maintenance.at.cleanup]" "explain says why"
expect_not_in "$work/out" "stage prepare" "--stage shows one stage"
"$bin" plan "$example" --stage clenaup >/dev/null 2>"$work/err"
expect_rc 1 $? "unknown --stage"
expect_in "$work/err" "reconcile: error: no stage 'clenaup' in $example, did you mean 'cleanup'?" "stage suggestion"

# A plan saved with --stage showed that stage alone: apply runs through it and no further,
# and runs no stage before it that was never shown.
staged=$work/staged
mkdir -p "$staged" "$work/one-stage"
cp -r "$example" "$src/examples/files" "$work/one-stage/"  # its journal beside it, in the test's folder
example=$work/one-stage/local-files.toml
"$bin" plan "$example" --var root="$staged" --stage switch --out "$work/switch.json" >/dev/null 2>"$work/err"
expect_rc 0 $? "plan --stage --out"
expect_in "$work/switch.json" '"reviewed_stage": "switch"' "a one-stage plan names its stage"
expect_in "$work/err" "(stage 'switch' only: reconcile apply $work/switch.json runs through it and no further)" \
  "a one-stage plan says what apply will run"
expect_in "$work/err" "stage 'prepare' before it is not complete and is not shown, so apply will refuse this plan" \
  "a one-stage plan past a pending stage is told"
"$bin" apply "$work/switch.json" >"$work/out" 2>"$work/err"
expect_rc 1 $? "apply of a one-stage plan past a pending stage"
expect_in "$work/err" "but stage 'prepare' before it is not complete and would run unreviewed; nothing was changed" \
  "the stage never shown is named"
[ -z "$(ls -A "$staged")" ] && ok || bad "a refused one-stage plan changed the world"
"$bin" plan "$example" --var root="$staged" --stage prepare --out "$work/prepare.json" >/dev/null 2>&1
"$bin" apply "$work/prepare.json" --through switch >"$work/out" 2>"$work/err"
expect_rc 1 $? "apply of a one-stage plan --through a later stage"
expect_in "$work/err" "so stage 'switch' was never reviewed; nothing was changed" "the later stage is refused"
"$bin" apply "$work/prepare.json" >"$work/out" 2>"$work/err"
expect_rc 0 $? "apply of a one-stage plan"
expect_in "$work/out" "Apply complete through stage 'prepare'" "a one-stage plan applies its stage"
expect_in "$staged/upstream.conf" "server 10.0.0.5:8000" "and not the stage after it"
# A stage's confirmation declined (no terminal) changes nothing: the saved plan still holds.
"$bin" plan "$example" --var root="$staged" --stage switch --out "$work/switch2.json" >/dev/null 2>&1
# Stale, a one-stage plan is saved again as one: the command given says --stage.
cp "$staged/upstream.conf" "$work/upstream.keep"
echo "by hand" >"$staged/upstream.conf"
"$bin" apply "$work/switch2.json" --yes >"$work/out" 2>"$work/err"
expect_rc 1 $? "apply of a one-stage plan the world moved from"
expect_in "$work/err" "save it again and review it: reconcile plan $example --var root=$staged --stage switch --out $work/switch2.json" \
  "a stale one-stage plan is saved again as one"
cp "$work/upstream.keep" "$staged/upstream.conf"
"$bin" apply "$work/switch2.json" >"$work/out" 2>"$work/err"
expect_rc 1 $? "apply of a plan whose stage asks for confirmation, without a terminal"
"$bin" apply "$work/switch2.json" --yes >"$work/out" 2>"$work/err"
expect_rc 0 $? "the same plan, confirmed"
expect_in "$work/out" "Apply complete through stage 'switch'" "a declined confirmation leaves the saved plan good"
"$bin" apply "$example" --var root="$staged" --yes >/dev/null 2>&1 || bad "apply of every stage"
"$bin" plan "$example" --var root="$staged" --stage prepare --out "$work/done.json" >/dev/null 2>&1
"$bin" apply "$work/done.json" >"$work/out" 2>"$work/err"
expect_rc 0 $? "apply of a one-stage plan once every stage is complete"
expect_in "$work/out" "Nothing to do: stage 'prepare' is already complete." "a complete stage is said complete"
example=$src/examples/local-files.toml

# graph
"$bin" graph "$example" >"$work/out" 2>/dev/null
expect_rc 0 $? "graph"
expect_in "$work/out" '"file.maintenance" -> "file.upstream";' "graph edge"

# a converged spec: 0 even with --detailed-exitcode
testdata converged >"$work/converged.toml"
printf 'same\n' >"$work/a.txt"
"$bin" plan "$work/converged.toml" --detailed-exitcode >"$work/out" 2>/dev/null
expect_rc 0 $? "converged spec"
expect_in "$work/out" "No changes: the world matches the spec." "converged message"

# secrets: never printed, never saved
testdata secret >"$work/secret.toml"
printf 'old-token-value\n' >"$work/token"
RECONCILE_CLI_SECRET=new-token-value "$bin" plan "$work/secret.toml" --json --out "$work/secret-plan.json" \
  >"$work/out" 2>"$work/err"
expect_rc 0 $? "plan with a secret"
RECONCILE_CLI_SECRET=new-token-value "$bin" plan "$work/secret.toml" >>"$work/out" 2>>"$work/err"
for f in "$work/out" "$work/err" "$work/secret-plan.json"; do
  expect_not_in "$f" "new-token-value" "secret value"
  expect_not_in "$f" "old-token-value" "prior secret value"
done
expect_in "$work/out" "(sensitive) → (sensitive)" "secret shown as sensitive"
"$bin" plan "$work/secret.toml" >/dev/null 2>"$work/err"
expect_rc 1 $? "missing secret"
expect_in "$work/err" "the environment variable RECONCILE_CLI_SECRET is not set" "missing secret named"

# a broken spec: every error with file:line:col, the line and a caret; exit 1; nothing probed
testdata_verbatim broken >"$work/broken.toml"
"$bin" plan "$work/broken.toml" >"$work/out" 2>"$work/err"
expect_rc 1 $? "broken spec"
expect_in "$work/err" "$work/broken.toml:7:1: error: unknown attribute 'serer_names' in file.a" "first error"
expect_in "$work/err" "$work/broken.toml:9:9: error: unknown stage 'swtich' for file.b, did you mean 'switch'?" "second error"
expect_in "$work/err" " 9 | stage = \"swtich\"" "source line shown"
expect_in "$work/err" "reconcile: 2 errors in the spec; nothing was probed or changed." "error count"
[ ! -s "$work/out" ] && ok || bad "nothing on stdout for a broken spec"

"$bin" plan "$work/missing.toml" >/dev/null 2>"$work/err"
expect_rc 1 $? "missing spec"
expect_in "$work/err" "cannot read spec '$work/missing.toml': No such file or directory" "missing spec named"
"$bin" plan "$example" --var novalue >/dev/null 2>"$work/err"
expect_rc 1 $? "bad --var"
expect_in "$work/err" "--var takes NAME=VALUE, got 'novalue'" "bad --var named"

# The checks alone, asked once: what each sees, exit 0 only when all hold.
"$bin" check "$example" --var root="$root" >"$work/out" 2>"$work/err"
expect_rc 0 $? "check"
expect_in "$work/out" "✓ check.upstream_port_closed (switch): 127.0.0.1:1 does not: Connection refused" "check line"
expect_in "$work/out" "1 of 1 checks hold." "check count"
"$bin" check "$example" --var root="$root" --stage prepare >"$work/out" 2>"$work/err"
expect_rc 0 $? "check --stage with none"
expect_in "$work/out" "No checks in stage prepare." "no checks in a stage"
testdata_verbatim open >"$work/open.toml"
"$bin" check "$work/open.toml" >"$work/out" 2>"$work/err"
expect_rc 1 $? "a check that does not hold"
expect_in "$work/out" "✗ check.db (one): 127.0.0.1:1 does not: Connection refused" "the failing check"
expect_in "$work/out" "0 of 1 checks hold." "failing count"

# Reports for a change request: Markdown and a standalone HTML page with the graph drawn by
# Graphviz (tests/install-deps.sh installs it).
"$bin" plan "$example" --var root="$root" --format markdown >"$work/out" 2>"$work/err"
expect_rc 0 $? "plan --format markdown"
expect_in "$work/out" "## Stage switch" "markdown stage heading"
expect_in "$work/out" "](data:image/svg+xml;base64," "markdown graph image"
"$bin" plan "$example" --var root="$root" --format html >"$work/out" 2>"$work/err"
expect_rc 0 $? "plan --format html"
expect_in "$work/out" "<h2>Stage prepare</h2>" "html stage heading"
expect_in "$work/out" "<svg" "html graph inline"
"$bin" plan "$example" --var root="$root" --format pdf >/dev/null 2>"$work/err"
expect_rc 1 $? "an unknown format"
expect_in "$work/err" "pdf" "the unknown format named"

# A failed step: its time before the provider's error, the error's later lines indented
# under it, no line left with only the time; then what was done before it stopped.
testdata failing >"$work/failing.toml"
"$bin" apply "$work/failing.toml" --yes >"$work/out" 2>"$work/err"
expect_rc 1 $? "apply of a failing step"
grep -qE "^\[1/1\] \+ command\.breaks FAILED after [0-9.]+m?s: \`apply\` exited 3 on local:$" "$work/err" && ok ||
  bad "the failed step's line, its address said once: $(cat "$work/err")"
[ "$(grep -cx "    first line" "$work/err") $(grep -cx "    second line" "$work/err")" = "2 2" ] && ok ||
  bad "the error's lines, indented under the step and in the stage's failure: $(cat "$work/err")"
grep -qx "  command.breaks: \`apply\` exited 3 on local:" "$work/err" && ok || bad "the stage's failure names the step once: $(cat "$work/err")"
grep -qE "^ *\([0-9.]+m?s\)$" "$work/err" && bad "a line with only the time: $(cat "$work/err")" || ok
grep -qE "^Done before it stopped: 1 failed, in [0-9.]+m?s\.$" "$work/err" && grep -qE "^  one  1 failed  .*\(failed\)$" "$work/err" &&
  ok || bad "what was done before it stopped: $(cat "$work/err")"
# status says the failure the same way: the step named once, its lines indented, no blank line.
"$bin" status "$work/failing.toml" >"$work/out" 2>"$work/err"
expect_rc 0 $? "status after a failure"
grep -qE "^last failure \(.*\): command\.breaks in stage one: .apply. exited 3 on local:$" "$work/out" &&
  [ "$(sed -n '/^last failure/,/^$/p' "$work/out" | sed -n 2,3p)" = "$(printf '  first line\n  second line')" ] && ok ||
  bad "status's last failure: $(cat "$work/out")"
[ "$(sed -n '/^last failure/,/^last run/p' "$work/out" | wc -l)" = 5 ] && ok ||
  bad "one blank line, no more, between the last failure and the last run: $(cat "$work/out")"
grep -qE "^last run: apply by .* at .*, failed$" "$work/out" && ok || bad "status says how the last run ended: $(cat "$work/out")"

# --out and --export never write over the spec or the journal (nor its lock or checkpoint):
# the spec became plan JSON, and a journal written over lost every record.
own=$work/own
mkdir -p "$own/root"
cp -r "$src/examples/local-files.toml" "$src/examples/files" "$own/"
"$bin" apply "$own/local-files.toml" --var root="$own/root" --through prepare --yes >/dev/null 2>&1
expect_rc 0 $? "apply, for a journal to protect"
cp "$own/local-files.toml" "$work/spec.before"
for target in "$own/local-files.toml" "$own/./local-files.toml" "$own/.reconcile/local-files.journal" \
  "$own/.reconcile/local-files.journal.lock"; do
  "$bin" plan "$own/local-files.toml" --var root="$own/root" --out "$target" >/dev/null 2>"$work/err"
  expect_rc 1 $? "plan --out $target"
  expect_in "$work/err" "written there, it would be lost; give another path. Nothing was written" "--out $target refused"
done
ln -s local-files.toml "$own/spec-link.toml"
"$bin" plan "$own/local-files.toml" --var root="$own/root" --out "$own/spec-link.toml" >/dev/null 2>"$work/err"
expect_rc 1 $? "plan --out through a link to the spec"
cmp -s "$own/local-files.toml" "$work/spec.before" && ok || bad "--out wrote over the spec"
"$bin" status "$own/local-files.toml" --var root="$own/root" >/dev/null 2>"$work/err"
expect_rc 0 $? "the journal still reads after the refusals"
"$bin" history "$own/local-files.toml" --var root="$own/root" --export "$own/local-files.toml" >/dev/null 2>"$work/err"
expect_rc 1 $? "history --export over the spec"
expect_in "$work/err" "--export $own/local-files.toml is the spec file" "--export over the spec refused"
# /dev/stdout, "-": stdout itself, so output appended to a file (>>) is appended, not written
# over from the start of the file, nor the file replaced.
printf 'first line\n' >"$work/appended"
"$bin" plan "$own/local-files.toml" --var root="$own/root" --out /dev/stdout >>"$work/appended" 2>/dev/null
expect_rc 0 $? "plan --out /dev/stdout"
[ "$(head -1 "$work/appended")" = "first line" ] && ok || bad "--out /dev/stdout wrote over the file stdout appends to"
expect_in "$work/appended" '"format_version": 1' "--out /dev/stdout writes the plan"
"$bin" plan "$own/local-files.toml" --var root="$own/root" --out - 2>/dev/null | grep -q '"format_version": 1' && ok ||
  bad "--out - writes the plan to stdout"
# What stops a write is said with the path given, not a temporary file's.
"$bin" plan "$own/local-files.toml" --var root="$own/root" --out "$work/no-such/plan.json" >/dev/null 2>"$work/err"
expect_rc 1 $? "plan --out into a missing folder"
expect_in "$work/err" "cannot write $work/no-such/plan.json: the folder $work/no-such does not exist" "a missing folder is named"
ln -s loop-b "$work/loop-a"
ln -s loop-a "$work/loop-b"
"$bin" plan "$own/local-files.toml" --var root="$own/root" --out "$work/loop-a" >/dev/null 2>"$work/err"
expect_rc 1 $? "plan --out to a loop of links"
expect_in "$work/err" "its symbolic links go round in a loop" "a loop of links is said as one"
# Lost output: a read-only command fails (--detailed-exitcode's 2 too); an apply's code stands
# (the world changed), with the lost report said.
"$bin" plan "$own/local-files.toml" --var root="$own/root" --detailed-exitcode >/dev/full 2>"$work/err"
expect_rc 1 $? "plan --detailed-exitcode to a full stdout"
"$bin" apply "$own/local-files.toml" --var root="$own/root" --yes >/dev/full 2>"$work/err"
expect_rc 0 $? "apply to a full stdout"
expect_in "$work/err" "the run's report could not be written to the output" "an apply's lost report is said"
"$bin" plan "$own/local-files.toml" --var root="$own/root" --detailed-exitcode >/dev/null 2>&1
expect_rc 0 $? "the apply whose report was lost applied"

finish
