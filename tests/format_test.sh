#!/bin/bash
# The code follows .clang-format: every C++ file of the repository, as clang-format would write
# it. A file that does not is named with the command that puts it right.
# Usage: format_test.sh PATH_TO_RECONCILE SOURCE_DIR
set -u
src=$2
. "$src/tests/lib.sh" format
command -v clang-format >/dev/null || { bad "clang-format is not installed (tests/install-deps.sh installs it)"; finish; }
cd "$src" || exit 1
files=$(git ls-files '*.cc' '*.h' 2>/dev/null || find engine providers tests bench -name '*.cc' -o -name '*.h')
[ -n "$files" ] && ok || bad "no C++ files found under $src"
off=""
for f in $files; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || off="$off $f"
done
[ -z "$off" ] && ok || bad "not formatted as .clang-format says; run: clang-format -i$off"
# The check would see a file that is off.
printf 'int  main( ){return 0;}\n' >"$work/off.cc"
clang-format --dry-run --Werror --style=file:"$src/.clang-format" "$work/off.cc" >/dev/null 2>&1 && bad "the check passes anything" || ok
finish
