# Shared by the shell tests: a work folder removed on exit, pass/fail counting, and the
# closing line ctest and CI read ("N passed, N failed").
# Usage: . tests/lib.sh NAME   (after bin=… and src=… are set)
work=$(mktemp -d "/tmp/reconcile-$1-XXXXXX")
trap '[ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
# What the test's processes make with mktemp (reconcile's local shells among them) stays in
# the work folder: a test leaves nothing in the machine's /tmp, even when it kills reconcile.
mkdir "$work/tmp"
export TMPDIR=$work/tmp
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
# eventually CMD...: CMD succeeds within 3 s. `nginx -s reload` returns before the old worker
# stops accepting: for about 100 ms after a reload, a request may still get the old site (the
# engine's own checks retry for the same reason).
eventually() {
  local _
  for _ in $(seq 1 30); do "$@" && return 0; sleep 0.1; done
  return 1
}
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}

# A test's specs live in tests/testdata/<test>/NAME.toml (<test> is the script's name without
# _test.sh), as Terraform keeps its fixtures: TOML stays TOML for editors and reviewers.
# testdata NAME [ARGS...]: the spec with the test's $variables (and ARGS as $1…) filled in, as an
# unquoted heredoc would; testdata_verbatim NAME: the spec as written (its ${vars.X} kept).
testdata_dir=$src/tests/testdata/$(basename "${BASH_SOURCE[1]}" .sh)
testdata_dir=${testdata_dir%_test}
testdata() {
  local file=$testdata_dir/$1.toml
  shift
  [ -f "$file" ] || { echo "FAIL: no spec $file" >&2; return 99; }
  eval "cat <<__RECONCILE_TESTDATA__
$(cat "$file")
__RECONCILE_TESTDATA__"
}
testdata_verbatim() { cat "$testdata_dir/$1.toml"; }

# awscli ARGS...: the AWS CLI against the lab's moto as the lab's IAM user, reading nothing of
# this machine's ~/.aws (after the lab's lab.env is sourced).
awscli() {
  AWS_ACCESS_KEY_ID=$AWS_LAB_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$AWS_LAB_SECRET_KEY AWS_DEFAULT_REGION=$AWS_REGION \
    AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null aws --endpoint-url "$AWS_ENDPOINT" "$@"
}

# crash_after K CMD...: runs CMD (reconcile) in the background with the crash shim preloaded
# (tests/support/crash_after_record.cc, built beside the binary), which SIGKILLs it right after
# journal record K is durable; waits for it and returns its exit code (137 when killed).
crash_after() {
  local shim
  shim=$(dirname "$bin")/libcrash_after_record.so
  if [ ! -f "$shim" ]; then
    echo "FAIL: the crash shim $shim is missing; build the crash_after_record target" >&2
    return 99
  fi
  local k=$1
  shift
  # Not instrumented itself, so ASan is told not to insist on coming first.
  LD_PRELOAD=$shim RECONCILE_CRASH_AFTER_RECORD=$k ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0 \
    "$@" &
  wait $! 2>/dev/null  # (no "Killed" line from the shell for each trial)
}

# test_sshd_conf FILE ADDRESS PORT: an sshd config for a test host of the test's own (in a
# namespace), logging in with the lab's keys; echoes the known_hosts line for it.
test_sshd_conf() {
  cat >"$1" <<CONF
Port $3
ListenAddress $2
HostKey $LAB_DIR/sshd/host_ed25519
PidFile none
AuthorizedKeysFile none
AuthorizedKeysCommand /bin/cat $LAB_DIR/sshd/authorized_keys
AuthorizedKeysCommandUser root
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
Subsystem sftp internal-sftp
CONF
  local name=$2
  [ "$3" = 22 ] || name="[$2]:$3"
  echo "$name $(cut -d' ' -f1,2 "$LAB_DIR/sshd/host_ed25519.pub")"
}
