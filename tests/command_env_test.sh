#!/usr/bin/env bash
# A command's environment and what its plan shows, through the binary on host = "local":
# the plan shows argv as one sh line, a long script folded, env with its secrets as
# (sensitive); apply hands literal, env: and file: values to the command (a file: secret
# without its trailing newline) and PATH from `path`; no secret reaches the plan, its JSON,
# the output or the journal; `$${HOME}` reaches the shell as `${HOME}`.
# Usage: command_env_test.sh PATH_TO_RECONCILE SOURCE_DIR
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" command-env

export RECONCILE_TEST_ENV_TOKEN="tok'en with \"quotes\" and \$HOME"
printf 'from-file-secret\n' >"$work/token"
spec=$work/cmd.toml
testdata_verbatim cmd >"$spec"
sed -i "s|WORK|$work|g" "$spec"
rc() { "$bin" "$@" >"$work/out" 2>"$work/err"; }
has() { grep -qF -- "$1" "$work/out" && ok || bad "$2 should show: $1
$(cat "$work/out" "$work/err")"; }

rc plan "$spec"
has "        apply: sh -c 'printf '\\''%s|%s|%s|%s'\\'' \"\$MODE\" \"\$TOKEN\" \"\$FROMFILE\" \"\$PATH\" > $work/env.txt'" "the argv"
has '        env:   { FROMFILE = (sensitive), MODE = "fast lane", TOKEN = (sensitive) }' "env, its secrets hidden"
has '        path:  "/usr/bin:/bin"' "path"
has "        apply: printf '%s' \"\${HOME}\" > $work/home.txt; printf '%s' '\${HOME}' > $work/escape.txt" "the escaped line"
has '        apply: : 1' "the script's first line"
has '               : 10' "the script's tenth line, under the first"
has '               … 2 more lines' "the script folded"
grep -q 'tok.en\|from-file-secret' "$work/out" "$work/err" && bad "a secret is in the plan" || ok

rc plan "$spec" --json
grep -qF '"text": "{ FROMFILE = (sensitive), MODE = \"fast lane\", TOKEN = (sensitive) }"' "$work/out" && ok ||
  bad "the JSON plan should carry the text: $(grep -n text "$work/out")"
grep -q 'tok.en\|from-file-secret' "$work/out" && bad "a secret is in the JSON plan" || ok

rc apply "$spec" --yes && ok || bad "apply: $(cat "$work/out" "$work/err")"
[ "$(cat "$work/env.txt")" = "fast lane|$RECONCILE_TEST_ENV_TOKEN|from-file-secret|/usr/bin:/bin" ] && ok ||
  bad "the command's environment: $(cat "$work/env.txt")"
[ "$(cat "$work/escape.txt")" = '${HOME}' ] && ok || bad "\$\${HOME} should reach the shell as \${HOME}: $(cat "$work/escape.txt")"
[ "$(cat "$work/home.txt")" = "$HOME" ] && ok || bad "the shell expands \${HOME}: $(cat "$work/home.txt")"
[ -e "$work/script.done" ] && ok || bad "the whole script ran, past its shown lines"
grep -rq 'tok.en\|from-file-secret' "$work/out" "$work/err" "$work/.reconcile" && bad "a secret reached the output or the journal" || ok

finish
