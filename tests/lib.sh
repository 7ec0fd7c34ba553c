# Shared by the shell tests: a work folder removed on exit, pass/fail counting, and the
# closing line ctest and CI read ("N passed, N failed").
# Usage: . tests/lib.sh NAME   (after bin=… and src=… are set)
work=$(mktemp -d "/tmp/reconcile-$1-XXXXXX")
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
