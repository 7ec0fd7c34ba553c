#!/usr/bin/env bash
# The file journal and its lock through the binary, where a second operator or the machine
# can hurt them: force-unlock refuses a holder that still runs (and takes it only with
# --force, confirmed); a lock file of the wrong shape is an unknown holder, not a crash; a
# disk that fills up under an apply leaves a journal every later command reads; the journal,
# the lock file and a saved plan are readable by their owner only.
# The full disk is a small tmpfs mounted in a mount namespace of this test's own (it goes
# with the test). Usage: journal_safety_test.sh PATH_TO_RECONCILE SOURCE_DIR   (root)
set -u
if [ -z "${JOURNAL_SAFETY_NS:-}" ]; then
  exec unshare --mount --propagation private env JOURNAL_SAFETY_NS=1 "$0" "$@"
fi
bin=$(realpath "$1")
src=$(realpath "$2")
. "$src/tests/lib.sh" journal-safety
trap 'umount "$work/disk" 2>/dev/null; [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT
cd "$work" || exit 1

# wait_for COMMAND...: up to 10 s for it to succeed.
wait_for() {
  for _ in $(seq 1 200); do "$@" && return 0; sleep 0.05; done
  return 1
}
# release FIFO: lets the step reading it go on (bounded: a step that never started fails).
release() { timeout 10 sh -c 'printf "go\n" >"$1"' _ "$1" || bad "nobody read $1"; }
holds() { "$bin" status lock.toml 2>&1 | grep -q "(pid $1, apply"; }
lock_id() { "$bin" status "$1" 2>&1 | sed -n 's/.*lock id \([0-9a-f]*\)).*/\1/p'; }

# --- A live holder's lock is not taken ---------------------------------------------------
# The holder: an apply whose one step reads a FIFO, so it runs (holding the lock) until this
# test writes to it. Each holder runs in a session of its own, so it and what it started can
# be killed together, by its id.
testdata lock >lock.toml
mkfifo fifo
setsid "$bin" apply lock.toml --yes >first.out 2>&1 &
first=$!
wait_for grep -qs '"kind":"intent"' .reconcile/lock.journal || bad "the holder never started its step: $(cat first.out)"
[ "$(stat -c %a .reconcile/lock.journal.lock)" = 600 ] && ok || bad "lock file mode $(stat -c %a .reconcile/lock.journal.lock)"
[ "$(stat -c %a .reconcile/lock.journal)" = 600 ] && ok || bad "journal mode $(stat -c %a .reconcile/lock.journal)"
me="$(id -un)@$(hostname)"

"$bin" apply lock.toml --yes >out 2>err
[ $? -eq 1 ] && ok || bad "a second apply must be refused while the first runs"
grep -q "is locked by $me (pid $first, apply, since .*), which is still running" err && ok || bad "refusal names the live holder: $(cat err)"
grep -q -- "--lock-timeout" err && ok || bad "refusal says to wait: $(cat err)"
grep -q "force-unlock" err && bad "refusal suggests force-unlock for a live holder: $(cat err)" || ok

id=$(lock_id lock.toml)
[ -n "$id" ] && ok || bad "status shows the lock id: $("$bin" status lock.toml 2>&1)"
before=$(md5sum <.reconcile/lock.journal)
"$bin" force-unlock lock.toml "$id" >out 2>err
[ $? -eq 1 ] && ok || bad "force-unlock took the lock of a live holder: $(cat out err)"
grep -q "is held by $me (pid $first, apply.*which is still running.*nothing was changed" err && ok || bad "force-unlock says why: $(cat err)"
"$bin" force-unlock lock.toml "$id" --force </dev/null >out 2>err
[ $? -eq 1 ] && ok || bad "force-unlock --force without a terminal or --yes took it"
grep -q "held by $me (pid $first, apply, since .*There is no terminal to ask on; nothing was changed (pass --yes" err && ok || bad "--force asks, naming the holder: $(cat err)"
"$bin" status lock.toml >out 2>&1
grep -q "lock: held by $me (pid $first, apply" out && ok || bad "still held after the refusals: $(cat out)"
[ "$(md5sum <.reconcile/lock.journal)" = "$before" ] && ok || bad "the refusals wrote to the journal"

release fifo
wait $first && ok || bad "the holder finished: $(cat first.out)"
"$bin" status lock.toml >out 2>&1 && ok || bad "the journal reads after all that: $(cat out)"
grep -q "lock: free" out && ok || bad "lock free after the holder: $(cat out)"
grep -q "damaged" out && bad "damaged journal: $(cat out)" || true

# A holder killed: the kernel released its flock; the next apply needs no force-unlock, and
# force-unlock of the id it left in the file is harmless.
rm -f waited
setsid "$bin" apply lock.toml --yes >killed.out 2>&1 &
killed=$!
wait_for holds $killed || bad "the second holder never held the lock"
id=$(lock_id lock.toml)
kill -KILL -- "-$killed"
wait $killed 2>/dev/null
"$bin" force-unlock lock.toml "$id" >out 2>err && ok || bad "force-unlock of a holder that ended: $(cat err)"
"$bin" status lock.toml >out 2>&1
grep -q "lock: free" out && ok || bad "free once its holder was killed: $(cat out)"
touch waited
"$bin" apply lock.toml --yes >out 2>err && ok || bad "apply after the holder was killed: $(cat err)"

# --force --yes on a live holder takes it, after saying whom from.
rm -f waited
setsid "$bin" apply lock.toml --yes >third.out 2>&1 &
third=$!
wait_for holds $third || bad "the third holder never held the lock"
id=$(lock_id lock.toml)
"$bin" force-unlock lock.toml "$id" --force --yes >out 2>err && ok || bad "force-unlock --force --yes: $(cat err)"
grep -q "warning: .*held by $me (pid $third, apply.*still running" err && ok || bad "--yes still names whom it takes from: $(cat err)"
kill -KILL -- "-$third"
wait $third 2>/dev/null

# A lock file of the wrong shape, held: an unknown holder, never a crash (exit 134).
exec 9<>.reconcile/lock.journal.lock
flock -x 9
printf '{"pid":"12","id":5,"user":[1]}\n' >.reconcile/lock.journal.lock
"$bin" status lock.toml >out 2>&1 9>&-
[ $? -eq 0 ] && ok || bad "status on an odd lock file: $(cat out)"
grep -q "lock: held by an unknown holder (pid ?" out && ok || bad "odd holder shown: $(cat out)"
"$bin" apply lock.toml --yes >out 2>err 9>&-
[ $? -eq 1 ] && ok || bad "apply on an odd lock file exits 1, not a crash: $(cat err)"
"$bin" force-unlock lock.toml 0123456789ab >out 2>err 9>&-
[ $? -eq 1 ] && ok || bad "force-unlock on an odd lock file exits 1: $(cat err)"
flock -u 9
exec 9>&-

# --- A saved plan is the owner's only ------------------------------------------------------
rm -f waited
umask 022
"$bin" plan lock.toml --out plan.json >/dev/null 2>err && ok || bad "plan --out: $(cat err)"
[ "$(stat -c %a plan.json)" = 600 ] && ok || bad "plan --out mode $(stat -c %a plan.json)"

# --- A full disk ---------------------------------------------------------------------------
# Two steps at once on a 256 KiB disk that holds the journal: `hold` waits on a FIFO; `fill`
# fills the disk, so its record cannot be written (its state, padded, is longer than any room
# left in the journal's last page). Then the disk is freed and `hold` finishes: its record
# must follow the last one written, on a line of its own, not on a fragment.
mkdir disk
mount -t tmpfs -o size=256k tmpfs disk || { bad "cannot mount a tmpfs in the test's namespace"; finish; exit; }
mkfifo hold-fifo fill-fifo
pad=$(printf '%*s' 6000 '' | tr ' ' x)
testdata full >disk/full.toml
"$bin" apply disk/full.toml --yes >full.out 2>full.err &
full=$!
two_intents() { [ "$(grep -c '"kind":"intent"' disk/.reconcile/full.journal 2>/dev/null)" = 2 ]; }
wait_for two_intents && ok || bad "both steps started: $(cat full.err)"
release fill-fifo
wait_for test -e fill.done || bad "fill never finished"
sleep 1  # its record is written (and fails) right after
[ "$(df --output=avail disk | tail -1 | tr -d ' ')" = 0 ] && ok || bad "the disk was not full: $(df disk)"
rm -f disk/fill
release hold-fifo
wait $full
[ $? -eq 1 ] && ok || bad "the apply whose record could not be written fails: $(cat full.out full.err)"
grep -q "applied, but the journal could not record it: cannot write the journal: No space left on device" full.err &&
  ok || bad "says the journal could not record it: $(cat full.err)"
"$bin" status disk/full.toml >out 2>&1 && ok || bad "status reads the journal after a full disk: $(cat out)"
grep -q "damaged" out && bad "journal damaged by a full disk: $(cat out)" || ok
grep -q "command.fill: apply create in stage" out && ok || bad "fill's step is shown as never finished: $(cat out)"
# Every line whole, numbered in order.
awk 'NR > 1' disk/.reconcile/full.journal | jq -e .seq >seqs 2>/dev/null && ok || bad "a line of the journal is not JSON: $(cat -A disk/.reconcile/full.journal | cut -c1-200)"
[ "$(cat seqs | tr '\n' ' ')" = "$(seq 1 "$(wc -l <seqs)" | tr '\n' ' ')" ] && ok || bad "sequence numbers: $(cat seqs | tr '\n' ' ')"
"$bin" apply disk/full.toml --yes >out 2>err && ok || bad "the next apply: $(cat err)"
"$bin" status disk/full.toml >out 2>&1 && ok || bad "status after the next apply: $(cat out)"

finish
