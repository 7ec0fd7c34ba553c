#!/usr/bin/env bash
# apply and rollback of a four-stage spec against real files: every stage reached, rolled
# back to every earlier stage and applied forward again, each time checked file by file;
# drift refused, dry runs harmless, a second apply a no-op, two applies never at once.
# Usage: apply_rollback_test.sh PATH_TO_RECONCILE SOURCE_DIR
set -u
bin=$1
src=$2
work=$(mktemp -d /tmp/reconcile-apply-test-XXXXXX)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }

spec=$work/four.toml
cp "$src/tests/testdata/four-stages.toml" "$spec"
root=$work/root
rc() { "$bin" "$@" --var root="$root" >"$work/out" 2>"$work/err"; }

# state NAME: what every file must be after stage NAME ("before" = untouched).
expect() { # expect FILE CONTENT MODE  (CONTENT "-" = absent)
  local f=$root/$1
  if [ "$2" = "-" ]; then
    [ ! -e "$f" ] && ok || bad "$STATE: $1 should be absent"
    return
  fi
  [ -f "$f" ] || { bad "$STATE: $1 missing"; return; }
  [ "$(cat "$f")" = "$(printf "$2")" ] && ok || bad "$STATE: $1 holds '$(cat "$f")', wanted '$2'"
  [ "$(stat -c %a "$f")" = "$3" ] && ok || bad "$STATE: $1 mode $(stat -c %a "$f"), wanted $3"
}
state() {
  STATE=$1
  case $1 in
    before) expect a - ; expect b - ; expect c - ; expect d - ; expect pre 'pre-existing' 644; expect gone 'gone-original' 644 ;;
    one)    expect a 'a1' 644; expect b - ; expect c - ; expect d 'd1' 644; expect pre 'p1' 644; expect gone 'gone-original' 644 ;;
    two)    expect a 'a1' 644; expect b "b2 refers to $root/a" 644; expect c - ; expect d 'd1' 600; expect pre 'p1' 644; expect gone - ;;
    three)  expect a 'a3' 644; expect b "b2 refers to $root/a" 644; expect c 'c3' 600; expect d 'd1' 600; expect pre 'p1' 644; expect gone - ;;
    four)   expect a 'a3' 644; expect b - ; expect c 'c3' 600; expect d 'd4' 600; expect pre 'p1' 644; expect gone - ;;
  esac
}
fresh() {
  rm -rf "$root" "$work/.reconcile"
  mkdir -p "$root"
  printf 'pre-existing\n' >"$root/pre"
  printf 'gone-original\n' >"$root/gone"
  chmod 644 "$root/pre" "$root/gone"
}

fresh
state before
rc apply "$spec" --through one && ok || bad "apply --through one: $(cat "$work/err")"
state one
rc apply "$spec" --yes && ok || bad "apply: $(cat "$work/err")"
state four
rc apply "$spec" --yes && ok || bad "second apply"
grep -q "Nothing to do: all 4 stages are complete and the world matches the spec." "$work/out" && ok || bad "second apply should say nothing to do: $(cat "$work/out")"
rc plan "$spec" --detailed-exitcode && ok || bad "plan after apply should be empty"

# Roll back to each earlier stage in turn, then all the way forward again.
for to in three two one; do
  rc rollback "$spec" --to $to --dry-run
  state four
  rc rollback "$spec" --to $to --yes && ok || bad "rollback --to $to: $(cat "$work/err")"
  state $to
  rc apply "$spec" --yes && ok || bad "apply after rollback to $to: $(cat "$work/err")"
  state four
  rc rollback "$spec" --to $to --yes && ok || bad "rollback --to $to (2): $(cat "$work/err")"
  state $to
  rc status "$spec"
  grep -q "complete  $to" "$work/out" && ok || bad "status after rollback to $to: $(cat "$work/out")"
  rc apply "$spec" --yes && ok || bad "apply forward from $to"
  state four
done

# Someone edits a file behind reconcile's back: rollback stops and says what changed.
printf 'hand edit\n' >"$root/a"
rc rollback "$spec" --to two --yes
[ $? -eq 1 ] && ok || bad "drift should refuse"
grep -q "file.a content: reconcile wrote \"a3\\\\n\", now \"hand edit\\\\n\"" "$work/err" && ok || bad "drift message: $(cat "$work/err")"
STATE=drift; expect c 'c3' 600  # nothing was rolled back
rc rollback "$spec" --to two --yes --force && ok || bad "rollback --force: $(cat "$work/err")"
state two

# Without a terminal and without --yes, nothing happens.
rc rollback "$spec" --to one </dev/null
[ $? -eq 1 ] && ok || bad "rollback without --yes and no tty should refuse"
grep -q "there is no terminal to ask on" "$work/err" && ok || bad "refusal says why: $(cat "$work/err")"
state two

# A damaged journal stops everything with the line named.
rc apply "$spec" --yes && ok || bad "apply before damage"
journal=$work/.reconcile/four.journal
cp "$journal" "$work/journal.bak"
sed -i '3s/"seq":2/"seq":7/' "$journal"
rc apply "$spec" --yes
[ $? -eq 1 ] && ok || bad "damaged journal must stop apply"
grep -q "is damaged at line 3" "$work/err" && ok || bad "damage named: $(cat "$work/err")"
cp "$work/journal.bak" "$journal"

# Two operators at once: the first holds the lock while it plans (it reads a source file
# that is a FIFO, so it waits there until this test writes to it); the second is refused
# with the holder's details, or waits for it with --lock-timeout.
cat >"$work/lock.toml" <<SPEC
version = 1
name = "lock"
[file.slow]
host = "local"
path = "$root/slow"
source = "$work/fifo"
SPEC
mkfifo "$work/fifo"
"$bin" apply "$work/lock.toml" --yes >"$work/first.out" 2>&1 &
first=$!
for _ in $(seq 1 100); do [ -s "$work/.reconcile/lock.journal.lock" ] && break; sleep 0.05; done
"$bin" apply "$work/lock.toml" --yes >"$work/out" 2>"$work/err"
[ $? -eq 1 ] && ok || bad "a second apply must be refused while the first holds the lock"
grep -q "is locked by $(id -un)@$(hostname) (pid $first, apply, since " "$work/err" && ok || bad "refusal names the holder: $(cat "$work/err")"
grep -q "reconcile force-unlock SPEC [0-9a-f]\{12\}" "$work/err" && ok || bad "refusal says how to force-unlock: $(cat "$work/err")"
"$bin" status "$work/lock.toml" >"$work/out" 2>&1
grep -q "lock: held by .*(pid $first, apply" "$work/out" && ok || bad "status shows the holder: $(cat "$work/out")"
"$bin" force-unlock "$work/lock.toml" 000000000000 >"$work/out" 2>"$work/err"
[ $? -eq 1 ] && ok || bad "force-unlock with the wrong id must refuse"
"$bin" apply "$work/lock.toml" --yes --lock-timeout 20s >"$work/second.out" 2>&1 &
second=$!
sleep 0.3
printf 'slow content\n' >"$work/fifo"
wait $first && ok || bad "first apply: $(cat "$work/first.out")"
printf 'slow content\n' >"$work/fifo" &
wait $second && ok || bad "second apply waited for the lock and ran: $(cat "$work/second.out")"
[ "$(cat "$root/slow")" = "slow content" ] && ok || bad "the first apply wrote the file"
"$bin" status "$work/lock.toml" >"$work/out" 2>&1
grep -q "lock: free" "$work/out" && ok || bad "lock is free after both: $(cat "$work/out")"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
