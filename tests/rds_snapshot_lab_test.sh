#!/usr/bin/env bash
# rds_snapshot through the binary on the lab's moto: taken in its stage and read back with the
# AWS CLI, planned as nothing afterwards, kept by a rollback past it, taken again under a new
# name (${run}) when the apply passes its stage again; one made by hand beforehand is adopted.
# Usage: rds_snapshot_lab_test.sh PATH_TO_RECONCILE SOURCE_DIR   (RECONCILE_LAB_ENV set)
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" rds-snapshot
. "${RECONCILE_LAB_ENV:?run through ctest, which starts the lab}"
export AWS_LAB_ACCESS_KEY AWS_LAB_SECRET_KEY  # for the specs' env:NAME
cd "$work" || exit 1

snapshot() { # snapshot ID: its status, or "none"
  awscli rds describe-db-snapshots --db-snapshot-identifier "$1" --query 'DBSnapshots[0].Status' --output text \
    2>/dev/null || echo none
}
run() { "$bin" "$@" >out 2>err; }

awscli rds create-db-instance --db-instance-identifier shop-db --engine postgres --db-instance-class db.t3.micro \
  --allocated-storage 20 --master-username shop --master-user-password 'not-a-real-one' >/dev/null && ok ||
  bad "lab setup: create-db-instance"
awscli rds create-db-snapshot --db-instance-identifier shop-db --db-snapshot-identifier shop-by-hand >/dev/null &&
  ok || bad "lab setup: create-db-snapshot"
testdata snap >snap.toml

run plan snap.toml && ok || bad "plan: $(cat err)"
grep -q "+ rds_snapshot.pre" out && ! grep -q "rds_snapshot.adopted" out && ok || bad "plan: take one, adopt one: $(cat out)"
run apply snap.toml --through freeze --yes && ok || bad "apply through freeze: $(cat err)"
[ "$(snapshot shop-pre-cutover-1)" = available ] && ok || bad "snapshot taken: $(snapshot shop-pre-cutover-1)"
run plan snap.toml && ! grep -q "rds_snapshot" out && ok || bad "plan after: $(cat out)"

run rollback snap.toml --to before --yes && ok || bad "rollback to before: $(cat err)"
[ "$(snapshot shop-pre-cutover-1)" = available ] && ok || bad "kept by the rollback: $(snapshot shop-pre-cutover-1)"
[ "$(snapshot shop-by-hand)" = available ] && ok || bad "the adopted one kept: $(snapshot shop-by-hand)"
run apply snap.toml --yes && ok || bad "apply again: $(cat err)"
[ "$(snapshot shop-pre-cutover-2)" = available ] && ok || bad "taken again as -2: $(snapshot shop-pre-cutover-2)"
[ "$(snapshot shop-pre-cutover-1)" = available ] && ok || bad "the first still there: $(snapshot shop-pre-cutover-1)"
[ -f done ] && ok || bad "the last stage ran"

# A snapshot under the name, of another instance, is no backup of this one: refused, named.
awscli rds create-db-instance --db-instance-identifier other-db --engine postgres --db-instance-class db.t3.micro \
  --allocated-storage 20 --master-username other --master-user-password 'not-a-real-one' >/dev/null &&
  awscli rds create-db-snapshot --db-instance-identifier other-db --db-snapshot-identifier other-db-snap >/dev/null
testdata wrong >wrong.toml
run plan wrong.toml && bad "a snapshot of another instance adopted" || ok
grep -q "the snapshot other-db-snap exists, of the instance other-db, not shop-db" err && ok || bad "wrong: $(cat err)"
finish
