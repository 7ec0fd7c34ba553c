#!/usr/bin/env bash
# The demo: a small staged cutover of this machine's files (examples/local-files.toml), run
# the way an operator runs one: validate, plan, apply stage by stage, status, roll back to a
# stage, and apply forward again. Everything happens in a temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."
tests/install-deps.sh
cmake -S . -B build >/dev/null
cmake --build build -j2 --target reconcile >/dev/null
bin=$PWD/build/reconcile
work=$(mktemp -d /tmp/reconcile-demo-XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -r examples/local-files.toml examples/files "$work/"
cd "$work"
spec=local-files.toml
run() { echo; echo "\$ reconcile $*"; "$bin" "$@" --var root="$work/site"; }
mkdir -p site

run validate "$spec"
run plan "$spec"
run apply "$spec" --through prepare
run status "$spec"
echo
echo "# The switch stage asks for confirmation; --yes gives it (no terminal here)."
run apply "$spec" --yes
run plan "$spec" --detailed-exitcode
echo "# Something went wrong after the switch: put everything back as it was after prepare."
run rollback "$spec" --to prepare --dry-run
run rollback "$spec" --to prepare --yes
echo
echo "site/upstream.conf now: $(cat site/upstream.conf)"
run status "$spec"
