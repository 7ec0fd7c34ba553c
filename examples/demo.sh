#!/usr/bin/env bash
# The demo: a small staged cutover of this machine's files (examples/local-files.toml),
# shown the way an operator sees it: validate, the dependency graph, the plan, and the
# plan again once the world already holds what the first stage wants.
set -euo pipefail
cd "$(dirname "$0")/.."
tests/install-deps.sh
cmake -S . -B build -DRECONCILE_TESTS=ON >/dev/null
cmake --build build -j2 --target reconcile >/dev/null
root=$(mktemp -d /tmp/reconcile-demo-XXXXXX)
trap 'rm -rf "$root"' EXIT
spec=examples/local-files.toml
run() { echo; echo "\$ reconcile $*"; build/reconcile "$@"; }

run validate "$spec"
run graph "$spec" --stage prepare
run plan "$spec" --var root="$root" --explain
echo
echo "# Someone already put the maintenance page up by hand, with the wrong mode:"
cp examples/files/maintenance.html "$root/maintenance.html"
chmod 0600 "$root/maintenance.html"
run plan "$spec" --var root="$root" --stage prepare
set +e
run plan "$spec" --var root="$root" --detailed-exitcode >/dev/null
echo "exit code $? (2: the plan has changes)"
