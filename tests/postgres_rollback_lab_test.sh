#!/usr/bin/env bash
# Through the reconcile binary, against the lab's PostgreSQL: a role and a database created,
# a snapshot taken (journaled, restored into another database; taken again under a new name
# when apply passes its stage after a rollback), CONNECT revoked from PUBLIC,
# the password rotated; then rollbacks that give the old password
# back (it works again, the new one no longer does) and reopen the database. Every result is
# read with psql, logging in as the roles themselves. No password or verifier in the journal.
# Usage: postgres_rollback_lab_test.sh PATH_TO_RECONCILE SOURCE_DIR   (RECONCILE_LAB_ENV set)
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" postgres-rollback
. "${RECONCILE_LAB_ENV:?run through ctest, which starts the lab}"

run=$RANDOM
app=app_$run other=other_$run appdb=appdb_$run
export LAB_PG_PASSWORD=$PG_PASSWORD APP_PW_OLD="old pw $run" APP_PW_NEW="new-pw-$run" OTHER_PW="other-$run"
export JOURNAL_KEY="journal key $run"
# connects DB USER PASSWORD: 0 when USER may log in to DB with PASSWORD; what psql said in $work/psql.
connects() {
  PGPASSWORD=$3 "$PG_BIN/psql" -h "$PG_HOST" -p "$PG_PORT" -U "$2" -d "$1" -tAc "select current_user" \
    >"$work/psql" 2>&1
}
super() { PGPASSWORD=$PG_PASSWORD "$PG_BIN/psql" -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "${2:-postgres}" -tAc "$1" 2>&1; }

testdata db >"$work/db.toml"
cd "$work" || exit 1

"$bin" plan db.toml >out 2>err && ok || bad "plan: $(cat err)"
grep -q "+ postgres_role.app" out && grep -q "+ postgres_database.app" out && ok || bad "plan creates: $(cat out)"
grep -q "password: (sensitive) → (sensitive)" out && ok || bad "the rotation is planned, its values hidden: $(cat out)"
grep -q "public_connect: true → false" out && ok || bad "the revoke is planned: $(cat out)"
grep -q "0 irreversible" out && ok || bad "nothing here is irreversible with a journal key: $(cat out)"

"$bin" apply db.toml --through prepare --yes >out 2>err && ok || bad "apply prepare: $(cat err)"
connects "$appdb" "$app" "$APP_PW_OLD" && ok || bad "app logs in with its password: $(cat "$work/psql")"
connects "$appdb" "$other" "$OTHER_PW" && ok || bad "another role may connect while public: $(cat "$work/psql")"
[ "$(super "select rolconnlimit from pg_roles where rolname = '$app'")" = 5 ] && ok || bad "connection limit"
[ "$(super "select pg_get_userbyid(datdba) from pg_database where datname = '$appdb'")" = "$app" ] && ok ||
  bad "database owned by app"
# The password went to the server as a verifier, and is stored as one.
super "select rolpassword from pg_authid where rolname = '$app'" | grep -q '^SCRAM-SHA-256\$' && ok ||
  bad "stored as SCRAM: $(super "select rolpassword from pg_authid where rolname = '$app'")"

super "create table orders (id int primary key, note text); insert into orders select g, 'n' || g from generate_series(1, 250) g" "$appdb" >/dev/null

"$bin" apply db.toml --yes >out 2>err && ok || bad "apply: $(cat err)"
# The snapshot: written, private, journaled with its size and checksum, and restorable.
[ "$(stat -c %a "$work/appdb-1.dump" 2>&1)" = 600 ] && ok || bad "snapshot written, mode 600: $(ls -l "$work")"
sum=$(sha256sum <"$work/appdb-1.dump" | cut -d' ' -f1)
ls -a "$work" | grep -q 'partial' && bad "a partial dump was left: $(ls -a "$work")" || ok
grep -q "\"sha256\":\"$sum\"" .reconcile/*.journal && grep -q "\"size\":$(stat -c %s "$work/appdb-1.dump")" .reconcile/*.journal &&
  ok || bad "size and checksum journaled"
super "create database restored_$run" >/dev/null
PGPASSWORD=$PG_PASSWORD "$PG_BIN/pg_restore" -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "restored_$run" \
  "$work/appdb-1.dump" >"$work/restore" 2>&1 && ok || bad "pg_restore: $(cat "$work/restore")"
[ "$(super "select count(*) from orders" "restored_$run")" = 250 ] && ok || bad "the snapshot holds the 250 rows"
connects "$appdb" "$other" "$OTHER_PW" && bad "another role still connects after the revoke" || ok
grep -q "CONNECT privilege" "$work/psql" && ok || bad "refused for want of CONNECT: $(cat "$work/psql")"
connects "$appdb" "$app" "$APP_PW_OLD" && bad "the old password still works after the rotation" || ok
connects "$appdb" "$app" "$APP_PW_NEW" && ok || bad "the new password works: $(cat "$work/psql")"
"$bin" plan db.toml >out 2>err && ok || bad "plan after apply: $(cat err)"
grep -q "postgres_" out && bad "plan is not empty after apply: $(cat out)" || ok

# Nothing secret in what reconcile wrote: neither password, nor the old verifier.
verifier_new=$(super "select rolpassword from pg_authid where rolname = '$app'")
for f in .reconcile/* out err; do
  grep -qF -e "$APP_PW_OLD" -e "$APP_PW_NEW" -e "$OTHER_PW" -e "$PG_PASSWORD" -e "${verifier_new#*\$}" "$f" &&
    bad "a secret in $f" || ok
done

"$bin" rollback db.toml --to freeze --yes >out 2>err && ok || bad "rollback to freeze: $(cat err)"
connects "$appdb" "$app" "$APP_PW_OLD" && ok || bad "the old password works again: $(cat "$work/psql")"
connects "$appdb" "$app" "$APP_PW_NEW" && bad "the new password still works after the rollback" || ok
connects "$appdb" "$other" "$OTHER_PW" && bad "the database reopened too early" || ok
"$bin" rollback db.toml --to prepare --yes >out 2>err && ok || bad "rollback to prepare: $(cat err)"
connects "$appdb" "$other" "$OTHER_PW" && ok || bad "another role connects again: $(cat "$work/psql")"
[ -s "$work/appdb-1.dump" ] && ok || bad "a rollback leaves the snapshot"

# Applied again past the snapshot's stage: a new snapshot under a new name (${run} is 2 once a
# rollback went back before its stage), holding the rows written since; the old one is kept.
super "insert into orders select g, 'n' || g from generate_series(251, 300) g" "$appdb" >/dev/null
"$bin" plan db.toml >out 2>err && grep -q "+ postgres_snapshot.app" out && grep -q "appdb-2.dump" out && ok ||
  bad "the plan takes the snapshot again, under a new name: $(cat out) $(cat err)"
"$bin" apply db.toml --through freeze --yes >out 2>err && ok || bad "apply past the snapshot again: $(cat err)"
[ -s "$work/appdb-1.dump" ] && [ -s "$work/appdb-2.dump" ] && ok || bad "both snapshots are there: $(ls "$work")"
super "create database restored2_$run" >/dev/null
PGPASSWORD=$PG_PASSWORD "$PG_BIN/pg_restore" -h "$PG_HOST" -p "$PG_PORT" -U "$PG_USER" -d "restored2_$run" \
  "$work/appdb-2.dump" >"$work/restore" 2>&1 && ok || bad "pg_restore of the new snapshot: $(cat "$work/restore")"
[ "$(super "select count(*) from orders" "restored2_$run")" = 300 ] && ok || bad "the new snapshot has the rows written since"

# Without a journal key the old password could not be kept: the rotation is irreversible.
sed -i '/^\[state\]/,/^key = /d' db.toml
"$bin" plan db.toml --explain >out 2>err && ok || bad "plan without key: $(cat err)"
grep -q "irreversible" out && grep -q "add key" out && ok || bad "rotation without a key is irreversible: $(cat out)"

# Connected as a role that may manage roles but not read pg_authid: the old verifier cannot be
# kept, so the rotation is planned as irreversible, and says why.
super "create role mgr_$run login createrole password 'mgr-$run'" >/dev/null
sed -e "s/^user = .*/user = \"mgr_$run\"/" -e 's/^password = "env:LAB_PG_PASSWORD"/password = "env:MGR_PW"/' db.toml >mgr.toml
MGR_PW="mgr-$run" "$bin" plan mgr.toml --explain >out 2>err && ok || bad "plan as a non-superuser: $(cat err)"
grep -q "cannot be read (pg_authid needs a superuser)" out && ok || bad "unreadable verifier is irreversible: $(cat out)"

# A snapshot pg_dump cannot take: the step fails with pg_dump's words and leaves no file.
testdata snap >snap.toml
"$bin" apply snap.toml --yes >out 2>err && bad "a dump of a missing database succeeded" || ok
grep -q "database \"nope_$run\" does not exist" err && ok || bad "pg_dump's error shown: $(cat err)"
ls "$work"/nope.dump* >/dev/null 2>&1 && bad "a failed dump left a file" || ok
grep -qF "$PG_PASSWORD" err out && bad "the password in the output" || ok
# A link under the snapshot's name (in a shared folder, anyone's) is not taken for the snapshot,
# nor is the dump written through it.
printf 'theirs\n' >"$work/theirs"
ln -s "$work/theirs" "$work/nope.dump"
"$bin" plan snap.toml >out 2>err && bad "a link was taken for the snapshot" || ok
grep -q "nope.dump on .* is a symbolic link; a snapshot is a file of its own there" err && ok ||
  bad "the link is said: $(cat err)"
[ "$(cat "$work/theirs")" = theirs ] && ok || bad "the file the link names was changed"
rm -f "$work/nope.dump"

# A wrong server password: refused, with the server's words, before anything is done.
LAB_PG_PASSWORD="bad-$run-pw" "$bin" plan db.toml >out 2>err && bad "a wrong password was accepted" || ok
grep -q "password authentication failed" err && ok || bad "wrong password named: $(cat err)"
grep -q "bad-$run-pw" err && bad "the wrong password is echoed" || ok

finish
