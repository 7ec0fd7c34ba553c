#!/usr/bin/env bash
# reconcile(1) is the binary's own help: the page the build wrote is what cmake/man_from_help.sh
# writes from this binary now, names every subcommand and option the help lists, formats
# without a groff warning, and escapes what roff would read as requests.
# Usage: man_page_test.sh PATH_TO_RECONCILE SOURCE_DIR
set -euo pipefail
bin=$1
src=$2
. "$src/tests/lib.sh" man-page
gen=$src/cmake/man_from_help.sh
page=$(dirname "$bin")/reconcile.1

[ -f "$page" ] && [ -f "$page.gz" ] && ok || bad "the build wrote no $page (and .gz): the reconcile_man target"
[ ! "$bin" -nt "$page" ] && ok || bad "$page is older than $bin: not written again after the build"

# Written again from the binary as it is now, the page is the same: it cannot drift.
"$gen" "$bin" "$work/reconcile.1" 2>"$work/err" && ok || bad "man_from_help.sh failed: $(cat "$work/err")"
cmp -s "$page" "$work/reconcile.1" && ok || bad "$page differs from what $bin --help gives now"
gzip -dc "$page.gz" | cmp -s - "$page" && ok || bad "$page.gz is not $page compressed"

# It formats cleanly: groff says nothing with every warning on.
groff -man -Tutf8 -ww -z "$page" >"$work/groff" 2>&1 && ok || bad "groff failed"
[ ! -s "$work/groff" ] && ok || bad "groff warns: $(cat "$work/groff")"
MANWIDTH=200 man -l "$page" >"$work/page.txt" 2>"$work/man-err" && ok || bad "man -l: $(cat "$work/man-err")"

expect_line() { # expect_line REGEX WHAT
  if grep -qE -- "$1" "$work/page.txt"; then ok; else bad "$2: no line matching '$1' in the page"; fi
}
for section in NAME SYNOPSIS DESCRIPTION OPTIONS COMMANDS "EXIT STATUS" ENVIRONMENT FILES "SEE ALSO"; do
  expect_line "^$section\$" "section $section"
done
expect_line "^ +reconcile - plan, apply and roll back" "NAME from the help's first line"
expect_line "^ +2 +plan --detailed-exitcode only" "exit status 2"
expect_line "^ +SSH_AUTH_SOCK\$" "SSH_AUTH_SOCK"
expect_line "^ +\.reconcile/NAME\.journal\$" "the journal file"

# Every subcommand of the help has its part (as a heading and in the synopsis), every option
# and positional of its help an entry there, and the argv[0] of the build never shows.
subcommands=$("$bin" --help | awk '/^[A-Za-z][A-Za-z ]*:$/ { in_subs = (tolower($0) == "subcommands:"); next }
  in_subs && /^  [^ ]/ { print $1 }')
[ "$(wc -w <<<"$subcommands")" -ge 10 ] && ok || bad "the help lists too few subcommands: $subcommands"
for sub in $subcommands; do
  expect_line "^   $sub\$" "heading of $sub"
  expect_line "^ +reconcile $sub( |\$)" "synopsis of $sub"
  # This subcommand's part of the page: from its heading to the next one (or EXIT STATUS).
  awk -v sub_="$sub" '$0 == "   " sub_ { on = 1; next } on && (/^   [a-z]/ || /^[A-Z]/) { exit } on' \
    "$work/page.txt" >"$work/part"
  "$bin" "$sub" --help | awk '/^  [^ ]/ { print $1 }' | tr ',' '\n' >"$work/entries"
  [ -s "$work/entries" ] && ok || bad "$sub --help lists no options"
  while read -r entry; do
    grep -qE -- "^ +$entry( |,|\$)|, $entry( |\$)" "$work/part" && ok || bad "$sub: '$entry' is not in its part of the page"
  done <"$work/entries"
done
grep -q "$(basename "$(dirname "$bin")")/reconcile" "$work/page.txt" && bad "the page shows the build's path" || ok

# Escaping: help text that roff would read as requests or escapes comes out as written.
cat >"$work/fake" <<'FAKE'
#!/bin/sh
case "$1" in
  --version) echo "reconcile 9.9.9" ;;
  --help) printf 'reconcile: a tool\nUsage: /somewhere/reconcile [OPTIONS] SUBCOMMAND\n\nSubcommands:\n  odd-one                     odd\n' ;;
  *) printf 'odd\nUsage: ./reconcile odd-one [OPTIONS] spec\n\nOptions:\n  --dot TEXT                  .TH looks like a request\n  --quote                     '"'"'br looks like one too\n  --backslash                 a \\fB and a \\\\ stay as written\n  --a-long-option-with-a-long-type TEXT:{one,two,three}\n                              wrapped under the name\n' ;;
esac
FAKE
chmod +x "$work/fake"
"$gen" "$work/fake" "$work/fake.1" 2>"$work/err" && ok || bad "man_from_help.sh on odd help: $(cat "$work/err")"
groff -man -Tutf8 -ww -z "$work/fake.1" >"$work/groff" 2>&1 && [ ! -s "$work/groff" ] && ok ||
  bad "groff on the odd page: $(cat "$work/groff")"
MANWIDTH=200 man -l "$work/fake.1" >"$work/page.txt" 2>/dev/null
expect_line "^ +\.TH looks like a request\$" "a line starting with '.'"
expect_line "^ +'br looks like one too\$" "a line starting with a quote"
expect_line '^ +a \\fB and a \\\\ stay as written$' "backslashes"
expect_line "^ +--a-long-option-with-a-long-type TEXT:\{one,two,three\}\$" "a long option name"
expect_line "^ +wrapped under the name\$" "a description wrapped under its name"
expect_line "^ +reconcile odd-one \[OPTIONS\] spec\$" "synopsis with argv[0] replaced"
finish
