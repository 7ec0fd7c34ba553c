#!/usr/bin/env bash
# docs/spec.md is `reconcile schema --markdown`: the reference a user reads is the code's own
# schema, and this fails the moment they part.
# Usage: spec_doc_test.sh PATH_TO_RECONCILE SOURCE_DIR
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" spec-doc
"$bin" schema --markdown >"$work/spec.md" 2>"$work/err" && ok || bad "schema --markdown: $(cat "$work/err")"
if diff -u "$src/docs/spec.md" "$work/spec.md" >"$work/diff"; then ok; else
  bad "docs/spec.md is out of date; regenerate it with: build/reconcile schema --markdown > docs/spec.md"
  head -40 "$work/diff"
fi
# Every type the build registers has its section.
for t in $("$bin" schema); do grep -q "^## \`$t\`$" "$src/docs/spec.md" && ok || bad "docs/spec.md has no section for $t"; done
finish
