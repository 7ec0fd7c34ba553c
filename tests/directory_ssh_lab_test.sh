#!/usr/bin/env bash
# The `directory` type over SSH (the lab's host): made with its mode, a file inside made after
# it, a rollback removing file then folder; a stray file stops the removal, named; a folder
# that was there before is adopted and left.
# Usage: directory_ssh_lab_test.sh PATH_TO_RECONCILE SOURCE_DIR   (RECONCILE_LAB_ENV set)
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" directory-ssh
. "${RECONCILE_LAB_ENV:?run through ctest, which starts the lab}"

root=$work/srv
mkdir -p "$root/old"
printf 'theirs\n' >"$root/old/keep.txt"
chmod 755 "$root/old"

testdata dirs >"$work/dirs.toml"
rc() { "$bin" "$@" >"$work/out" 2>"$work/err"; }

rc apply "$work/dirs.toml" --yes && ok || bad "apply: $(cat "$work/out" "$work/err")"
[ "$(stat -c %a "$root/app/sub" 2>/dev/null)" = 750 ] && ok || bad "app/sub made 0750 over SSH"
[ "$(cat "$root/app/sub/conf.txt" 2>/dev/null)" = c ] && ok || bad "conf.txt inside it"
[ "$(stat -c %a "$root/old")" = 700 ] && ok || bad "old adopted, 0700"
rc plan "$work/dirs.toml" --detailed-exitcode && ok || bad "plan after apply is empty: $(cat "$work/out")"

printf 'x\n' >"$root/app/sub/stray"
rc rollback "$work/dirs.toml" --to before --yes && bad "rollback should refuse a folder holding stray" || ok
grep -q "stray" "$work/out" "$work/err" && ok || bad "refusal names stray: $(cat "$work/out" "$work/err")"
rm "$root/app/sub/stray"
rc rollback "$work/dirs.toml" --to before --yes && ok || bad "rollback: $(cat "$work/out" "$work/err")"
[ ! -e "$root/app/sub" ] && ok || bad "app/sub removed over SSH"
[ -f "$root/old/keep.txt" ] && [ "$(stat -c %a "$root/old")" = 755 ] && ok || bad "old left, back at 0755"

finish
