#!/usr/bin/env bash
# The `directory` type through the binary on this machine: made with its mode (and missing
# parents), a file declared inside it made after it without `after`, a rollback removing the
# file and then the folder; a folder that was there before adopted and left in place; a folder
# holding files reconcile did not declare never removed, the refusal naming what it holds.
# Usage: directory_test.sh PATH_TO_RECONCILE SOURCE_DIR
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" directory

root=$work/root
mkdir -p "$root/old" "$work/a" "$work/b" "$work/c"
printf 'theirs\n' >"$root/old/keep.txt"
chmod 755 "$root/old"
rc() { "$bin" "$@" --var root="$root" >"$work/out" 2>"$work/err"; }

# file.conf is written before the folder it lives in: only the implicit edge orders them.
spec=$work/a/dirs.toml
testdata_verbatim dirs >"$spec"

rc validate "$spec" && ok || bad "validate: $(cat "$work/err")"
rc graph "$spec"
grep -q '"directory.app" -> "file.conf"' "$work/out" && ok || bad "graph lacks directory.app -> file.conf: $(cat "$work/out")"

rc apply "$spec" --yes && ok || bad "apply: $(cat "$work/out" "$work/err")"
[ -d "$root/app/sub" ] && [ "$(stat -c %a "$root/app/sub")" = 750 ] && ok || bad "app/sub should be a 0750 folder"
[ "$(cat "$root/app/sub/conf.txt" 2>/dev/null)" = c ] && ok || bad "conf.txt should hold c"
[ "$(stat -c %a "$root/old")" = 700 ] && ok || bad "old should be adopted and set to 0700"
rc plan "$spec" --detailed-exitcode && ok || bad "plan after apply should be empty: $(cat "$work/out")"

# A rollback removes the file, then the folder it made; the adopted folder gets its mode back.
rc rollback "$spec" --to start --yes && ok || bad "rollback: $(cat "$work/out" "$work/err")"
[ ! -e "$root/app/sub" ] && ok || bad "rollback should remove app/sub"
[ -d "$root/app" ] && ok || bad "the parent made along the way stays (documented)"
[ -f "$root/old/keep.txt" ] && [ "$(stat -c %a "$root/old")" = 755 ] && ok || bad "old should stay, back at 0755"
[ -f "$root/marker" ] && ok || bad "marker should stay"

# Someone puts a file in the folder reconcile made: rollback refuses to remove it, naming it.
rc apply "$spec" --yes && ok || bad "apply again: $(cat "$work/err")"
printf 'x\n' >"$root/app/sub/stray"
rc rollback "$spec" --to start --yes && bad "rollback should refuse a folder holding a stray file" || ok
grep -q "stray" "$work/out" "$work/err" && grep -q "does not delete" "$work/out" "$work/err" && ok ||
  bad "refusal should name stray and say why: $(cat "$work/out" "$work/err")"
[ -f "$root/app/sub/stray" ] && ok || bad "the stray file must survive"
rm "$root/app/sub/stray"
rc rollback "$spec" --to start --yes && ok || bad "rollback once emptied: $(cat "$work/out" "$work/err")"
[ ! -e "$root/app/sub" ] && ok || bad "app/sub should be gone once emptied"

# ensure = "absent" on a folder holding files reconcile did not make: refused, files kept.
spec=$work/b/absent.toml
testdata_verbatim absent >"$spec"
rc apply "$spec" --yes && bad "ensure = absent on a non-empty folder should fail" || ok
grep -q "keep.txt" "$work/out" "$work/err" && ok || bad "refusal should name keep.txt: $(cat "$work/out" "$work/err")"
[ -f "$root/old/keep.txt" ] && ok || bad "keep.txt must survive"

# A path that is a file, not a folder: an error naming it.
printf 'f\n' >"$root/notdir"
spec=$work/c/notdir.toml
testdata_verbatim notdir >"$spec"
rc plan "$spec" && bad "plan over a file where a folder is declared should fail" || ok
grep -q "$root/notdir exists and is not a directory" "$work/out" "$work/err" && ok ||
  bad "should name the path: $(cat "$work/out" "$work/err")"

cat "$work/out" "$work/err" >/dev/null; finish
