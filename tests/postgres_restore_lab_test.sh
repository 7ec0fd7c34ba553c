#!/usr/bin/env bash
# Through the reconcile binary, against the lab's PostgreSQL and sshd: a dump taken with pg_dump
# restored by postgres_restore (pg_restore run on the SSH host, the probe's libpq through its
# tunnel) into a fresh database, its row counts compared with the source's; a second plan is
# empty; a rollback leaves it (a one-shot step without a revert). A restore into an existing
# database (irreversible), a missing dump and a misnamed source are refused or said.
# Usage: postgres_restore_lab_test.sh PATH_TO_RECONCILE SOURCE_DIR   (RECONCILE_LAB_ENV set)
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" postgres-restore
. "${RECONCILE_LAB_ENV:?run through ctest, which starts the lab}"

run=$RANDOM
srcdb=src_$run dst=dst_$run
export LAB_PG_PASSWORD=$PG_PASSWORD
super() { PGPASSWORD=$PG_PASSWORD "$PG_BIN/psql" -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "${2:-postgres}" -tAc "$1" 2>&1; }
super "create database $srcdb" >/dev/null
super "create table orders (id int primary key, note text); insert into orders select g, 'n' || g from generate_series(1, 250) g;
       create schema shop; create table shop.items (id int); insert into shop.items select generate_series(1, 12)" "$srcdb" >/dev/null
PGPASSWORD=$PG_PASSWORD pg_dump --format=custom -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "$srcdb" -f "$work/src.dump" ||
  bad "pg_dump"
trap 'super "drop database if exists $srcdb" >/dev/null; super "drop database if exists $dst" >/dev/null;
      super "drop database if exists ${dst}_m" >/dev/null;
      [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"' EXIT

testdata restore >"$work/restore.toml"
cd "$work" || exit 1

"$bin" plan restore.toml >out 2>err && ok || bad "plan: $(cat err)"
grep -q "+ postgres_restore.app" out && grep -q "pg_restore $work/src.dump into $dst" out && ok ||
  bad "the plan shows the restore: $(cat out)"
grep -q "0 irreversible" out && ok || bad "a restore into a new database can be undone: $(cat out)"

"$bin" apply restore.toml --yes >out 2>err && ok || bad "apply: $(cat err)"
[ "$(super "select count(*) from orders" "$dst")" = 250 ] && ok || bad "the 250 orders are restored"
[ "$(super "select count(*) from shop.items" "$dst")" = 12 ] && ok || bad "the 12 items are restored"
grep -q '"counts":\["orders=250","shop.items=12"\]' .reconcile/*.journal && ok || bad "the counts are journaled"
grep -qF "$PG_PASSWORD" .reconcile/* out err && bad "the password in the journal or output" || ok
"$bin" plan restore.toml >out 2>err && ok || bad "plan after apply: $(cat err)"
grep -q "postgres_restore" out && bad "plan is not empty after apply: $(cat out)" || ok

# The source moves on: a restore (another one: the first is done, a one-shot step) into the
# now existing database cannot be undone, and says so.
super "insert into orders values (251, 'late')" "$srcdb" >/dev/null
sed -e 's/^\[postgres_restore.app\]/[postgres_restore.again]/' -e 's/^name = "restore"/name = "again"/' restore.toml >again.toml
"$bin" plan again.toml >out 2>err && ok || bad "plan after the source moved: $(cat err)"
grep -q "+ postgres_restore.again" out && grep -q "exists already" out && ok ||
  bad "a restore into the existing database is irreversible: $(cat out)"
super "delete from orders where id = 251" "$srcdb" >/dev/null

# Rollback past it: without a `revert` a one-shot step stays, said up front. (The provider can
# drop a database it created, but the engine's rollback does not ask it to for one-shot steps yet.)
"$bin" rollback restore.toml --to prepare --yes >out 2>err && ok || bad "rollback: $(cat err) $(cat out)"
grep -q "postgres_restore.app.*stays" out && ok || bad "the restore is said to stay: $(cat out)"
[ "$(super "select count(*) from orders" "$dst")" = 250 ] && ok || bad "the restored database stays"
[ -e marker ] && ok || bad "the earlier stage is untouched"

# A dump that is not there: the step fails with why, and leaves no database behind.
sed -e "s|^dump = .*|dump = \"$work/none.dump\"|" -e 's/^name = "restore"/name = "missing"/' \
  -e "s/^database = .*/database = \"${dst}_m\"/" restore.toml >missing.toml
"$bin" apply missing.toml --yes >out 2>err && bad "a restore of a missing dump succeeded" || ok
grep -q "cannot read the dump $work/none.dump" err && ok || bad "the missing dump is named: $(cat err)"
[ -z "$(super "select 1 from pg_database where datname = '${dst}_m'")" ] && ok || bad "a failed restore leaves no database"

# compare_with names a provider the spec lacks.
sed -e "s|^compare_with = .*|compare_with = \"postgres.odl:$srcdb\"|" restore.toml >bad.toml
"$bin" validate bad.toml >out 2>err && bad "an unknown provider passed validation" || ok
grep -q "unknown provider 'postgres.odl'.*did you mean 'postgres.old'" err && ok || bad "the provider is named: $(cat err)"

finish
