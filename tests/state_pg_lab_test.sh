#!/usr/bin/env bash
# The shared journal through the binary, against the lab's PostgreSQL: a cutover started on
# the file journal is moved into PostgreSQL with one command and goes on from there (its
# history intact: rollback reaches back past the move); two operators on two machines (two
# UTS namespaces, two host names) — the second is refused with the first one's name; the
# journal's password never shows; a password written into the URL is a spec error.
# Usage: state_pg_lab_test.sh PATH_TO_RECONCILE SOURCE_DIR   (RECONCILE_LAB_ENV set; root)
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" state-pg
. "${RECONCILE_LAB_ENV:?run through ctest, which starts the lab}"
cd "$work" || exit 1
name="shared-$$"
export STATE_PW=$PG_PASSWORD
sql() { PGPASSWORD=$PG_PASSWORD "$PG_BIN/psql" -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d postgres -tAc "$1"; }

testdata cut >cut.toml
"$bin" apply cut.toml --through one --yes >out 2>err && ok || bad "apply one on the file journal: $(cat err)"
[ -f ".reconcile/$name.journal" ] && ok || bad "the file journal was written"

# The move: one command, every record, the file kept aside.
printf '\n[state]\nurl = "postgres://%s@%s:%s/postgres"\npassword = "env:STATE_PW"\n' \
  "$PG_USER" "$PG_HOST" "$PG_PORT" >>cut.toml
"$bin" migrate-journal cut.toml >out 2>err && ok || bad "migrate-journal: $(cat err)"
n=$(($(wc -l <".reconcile/$name.journal.moved") - 1))
grep -q "Moved $n records from .*$name.journal to postgres://" out && ok || bad "says what moved: $(cat out)"
[ "$(sql "select count(*) from reconcile_journal where journal = '$name'")" = "$n" ] && ok || bad "$n rows"
[ ! -e ".reconcile/$name.journal" ] && ok || bad "the file journal is renamed away"
"$bin" migrate-journal cut.toml >out 2>err && bad "a second move was accepted" || ok
grep -q "there is no journal at" err && ok || bad "second move refused: $(cat err)"

"$bin" status cut.toml >out 2>&1 && ok || bad "status: $(cat out)"
grep -q "complete  one" out && ok || bad "stage one complete in the shared journal: $(cat out)"
"$bin" apply cut.toml --through two --yes >out 2>err && ok || bad "apply two on the shared journal: $(cat err)"
[ "$(cat site.conf)" = new ] && ok || bad "site switched"
"$bin" rollback cut.toml --to one --yes >out 2>err && ok || bad "rollback past the move: $(cat err)"
[ "$(cat site.conf)" = old ] && ok || bad "site back after a rollback that reaches past the move"

# Two operators on two machines: A's apply holds the lock (its check takes 3 s); B is refused
# and told who has it.
unshare --uts sh -c "hostname operator-a; exec \"$bin\" apply cut.toml --yes" >a.out 2>a.err &
a=$!
for _ in $(seq 50); do
  [ -n "$(sql "select 1 from reconcile_lock where journal = '$name'")" ] && break
  sleep 0.1
done
unshare --uts sh -c "hostname operator-b; exec \"$bin\" apply cut.toml --yes" >b.out 2>b.err &&
  bad "B applied while A held the lock" || ok
grep -q "is locked by $(id -un)@operator-a (pid $a, apply" b.err && ok || bad "B is told A has it: $(cat b.err)"
grep -q "force-unlock" b.err && bad "B is told to force-unlock a live holder: $(cat b.err)" || ok
grep -q "the server ends its session, and the lock with it, within about two minutes" b.err && ok ||
  bad "B is told what happens if A's machine is gone: $(cat b.err)"
# B may not take A's lock while A's session is connected, not even knowing its id.
lock_id=$(sql "select holder::json->>'id' from reconcile_lock where journal = '$name'")
unshare --uts sh -c "hostname operator-b; exec \"$bin\" force-unlock cut.toml $lock_id" >b.out 2>b.err &&
  bad "B force-unlocked A's live lock" || ok
grep -q "is held by $(id -un)@operator-a (pid $a, apply.*is still connected: that run is alive as far as this machine can tell; nothing was changed" b.err &&
  ok || bad "force-unlock refused, naming A: $(cat b.err)"
[ "$(sql "select count(*) from reconcile_lock where journal = '$name'")" = 1 ] && ok || bad "A's lock row is still there"
wait $a && ok || bad "A's apply: $(cat a.err)"
"$bin" status cut.toml >out 2>&1
grep -q "lock: free" out && ok || bad "the lock is free after A: $(cat out)"

# The journal's password is nowhere reconcile wrote or printed.
sql "select data from reconcile_journal where journal = '$name'" >rows
for f in rows out err a.out a.err b.out b.err; do
  grep -qF "$PG_PASSWORD" "$f" && bad "the journal password in $f" || ok
done

# A password inside the URL would be printed and kept: a spec error at its line.
sed -i "s|^url = \"postgres://$PG_USER@|url = \"postgres://$PG_USER:hunter2@|" cut.toml
"$bin" plan cut.toml >out 2>err && bad "a password in the url was accepted" || ok
grep -q "cut.toml:[0-9]*:[0-9]*: .*'url' of \[state\] holds a password" err && ok || bad "spec error: $(cat err)"
grep -q "hunter2" err && bad "the password is echoed" || ok
# A server that is not there: named, nothing done.
sed -i "s|:hunter2@$PG_HOST:$PG_PORT|@$PG_HOST:1|" cut.toml
"$bin" apply cut.toml --yes >out 2>err && bad "apply without its journal" || ok
grep -q "cannot reach the journal postgres://$PG_USER@$PG_HOST:1/postgres" err && ok || bad "unreachable: $(cat err)"

finish
