#!/usr/bin/env bash
# rds_instance through the binary on the lab's moto (signature checking on): an instance made
# in one stage and locked down in the next (not public, a larger class, a new master
# password), drift made with the AWS CLI shown by plan, a rollback putting it back; an
# instance retired with a final snapshot (the plan says it is irreversible) and brought back
# by a rollback; what RDS cannot change refused with what to do. Read back with the AWS CLI.
# A file made in the same stage takes the instance's endpoint (${rds_instance.db.address}),
# "(known after apply)" in the plan before the instance exists.
# moto never returns the master password either: the journal is checked to hold it sealed.
# Then apply and rollback are killed after each of their journal records, and each re-run
# must leave the instance as it should be with nothing left to plan.
# Usage: rds_instance_lab_test.sh PATH_TO_RECONCILE SOURCE_DIR   (RECONCILE_LAB_ENV set)
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" rds-instance
. "${RECONCILE_LAB_ENV:?run through ctest, which starts the lab}"
export AWS_LAB_ACCESS_KEY AWS_LAB_SECRET_KEY  # for the specs' env:NAME
export JOURNAL_KEY=rds-test-journal-key DB_PASSWORD_1=first-Secret-1 DB_PASSWORD_2=second-Secret-2
cd "$work" || exit 1

db() { awscli rds describe-db-instances --db-instance-identifier "$1" --query "DBInstances[0].[$2]" --output text; }
run() { "$bin" "$@" >out 2>err; }

dbid=coralnet-db
sg=$(awscli ec2 create-security-group --group-name db-sg --description db --query GroupId --output text)
[ -n "$sg" ] && ok || bad "lab setup: no group"
testdata db >db.toml

run plan db.toml && grep -q "+ rds_instance.db" out && ok || bad "plan: $(cat out err)"
grep -q 'content: (known after apply)' out && ok || bad "the endpoint before it exists: $(cat out)"
run apply db.toml --through build --yes && ok || bad "apply build: $(cat err)"
# The settings hold the endpoint RDS gave, as the AWS CLI reads it.
printf 'DATABASE_HOST=%s\nDATABASE_PORT=%s\n' $(db coralnet-db 'Endpoint.Address,Endpoint.Port') >want.env
grep -q "rds.amazonaws.com" want.env && cmp -s want.env settings.env && ok ||
  bad "settings: $(cat settings.env 2>&1) against $(cat want.env)"
[ "$(db coralnet-db 'PubliclyAccessible,DBInstanceClass,BackupRetentionPeriod,Engine')" = "True	db.t3.micro	7	postgres" ] &&
  ok || bad "after build: $(db coralnet-db 'PubliclyAccessible,DBInstanceClass,BackupRetentionPeriod,Engine')"
[ "$(db coralnet-db 'VpcSecurityGroups[0].VpcSecurityGroupId')" = "$sg" ] && ok || bad "security group"
# The build stage is converged, though RDS never tells the password: only lockdown's changes.
run plan db.toml && ! grep -q "engine_version\|allocated_storage" out && grep -q "publicly_accessible" out &&
  grep -q "master_password" out && ok || bad "plan after build: $(cat out)"
run apply db.toml --yes && ok || bad "apply lockdown: $(cat err)"
[ "$(db coralnet-db 'PubliclyAccessible,DBInstanceClass,BackupRetentionPeriod')" = "False	db.t3.small	3" ] &&
  ok || bad "after lockdown: $(db coralnet-db 'PubliclyAccessible,DBInstanceClass,BackupRetentionPeriod')"
run plan db.toml && grep -q "no changes" out && ok || bad "plan after apply: $(cat out)"
grep -rq "first-Secret-1\|second-Secret-2" out err .reconcile 2>/dev/null && bad "a password in clear" || ok

# Drift: made public again by hand; the plan shows it, the next apply puts it right.
awscli rds modify-db-instance --db-instance-identifier coralnet-db --publicly-accessible --apply-immediately >/dev/null
run plan db.toml && grep -q "publicly_accessible" out && ok || bad "drift in plan: $(cat out)"
run apply db.toml --yes && [ "$(db coralnet-db PubliclyAccessible)" = "False" ] && ok || bad "drift put right: $(cat err)"

# Back to build: public, the small class, 7 days, and the first password (sealed in the journal).
run rollback db.toml --to build --yes && ok || bad "rollback: $(cat err)"
[ "$(db coralnet-db 'PubliclyAccessible,DBInstanceClass,BackupRetentionPeriod')" = "True	db.t3.micro	7" ] &&
  ok || bad "rolled back: $(db coralnet-db 'PubliclyAccessible,DBInstanceClass,BackupRetentionPeriod')"
grep -q "master_password" out && ok || bad "the rollback sets the password back: $(cat out)"
run rollback db.toml --to build --yes && grep -qi "nothing to roll back\|no changes" out && ok ||
  bad "second rollback: $(cat out err)"

# Retired with a final snapshot: irreversible, so it needs saying so; a rollback makes it again.
testdata retire >retire.toml
run apply retire.toml --through keep --yes && [ "$(db old-db Engine)" = "mysql" ] && ok || bad "keep: $(cat err)"
run plan retire.toml && grep -q "irreversible" out && grep -q "final snapshot" out && ok || bad "retire plan: $(cat out)"
run apply retire.toml --yes && bad "an irreversible delete applied without --allow-irreversible" || ok
run apply retire.toml --yes --allow-irreversible && ok || bad "retire: $(cat err)"
awscli rds describe-db-instances --db-instance-identifier old-db >/dev/null 2>&1 && bad "old-db still there" || ok
awscli rds describe-db-snapshots --db-instance-identifier old-db --snapshot-type manual \
  --query 'DBSnapshots[0].DBSnapshotIdentifier' --output text | grep -q "^old-db-final-" && ok || bad "no final snapshot"
run rollback retire.toml --to keep --yes && [ "$(db old-db Engine)" = "mysql" ] && ok || bad "made again: $(cat err)"

# What RDS cannot do is refused before anything is asked of it.
testdata wrong coralnet-db mysql >engine.toml
run apply engine.toml --yes && bad "an engine change applied" || ok
grep -q "cannot change an instance's engine" err && ok || bad "engine change: $(cat err)"
testdata wrong new-db postgres >missing.toml
run apply missing.toml --yes && bad "a create without its class applied" || ok
grep -q "to create it, give instance_class, allocated_storage, master_username, master_password" err && ok ||
  bad "missing for create: $(cat err)"

# Killed after every journal record of apply and of rollback, each trial on an instance of
# its own; the re-run must converge and then plan nothing (the password read as sealed).
records() { [ -f .reconcile/rds-db.journal ] && echo $(($(wc -l <.reconcile/rds-db.journal) - 1)) || echo 0; }
trial() { # trial NAME: a fresh folder and instance
  mkdir -p "$work/$1" && cd "$work/$1" && dbid=$1 && testdata db >db.toml
}
trial reference
run apply db.toml --yes || bad "reference apply: $(cat err)"
apply_records=$(records)
run rollback db.toml --to build --yes || bad "reference rollback: $(cat err)"
rollback_records=$(($(records) - apply_records))
[ "$apply_records" -ge 6 ] && [ "$rollback_records" -ge 3 ] && ok || bad "records: $apply_records, $rollback_records"
for k in $(seq 1 "$apply_records"); do
  trial "crash-apply-$k"
  crash_after "$k" "$bin" apply db.toml --yes >/dev/null 2>&1
  [ $? -eq 137 ] && ok || bad "apply not killed at record $k"
  run apply db.toml --yes || bad "apply after a kill at record $k: $(cat err)"
  [ "$(db "$dbid" 'PubliclyAccessible,DBInstanceClass')" = "False	db.t3.small" ] && ok || bad "apply killed at $k: world"
  grep -qx "DATABASE_HOST=$(db "$dbid" Endpoint.Address)" settings.env && ok || bad "apply killed at $k: settings"
  run plan db.toml && grep -q "no changes" out && ok || bad "apply killed at $k: plan after: $(cat out)"
done
for i in $(seq 1 "$rollback_records"); do
  trial "crash-rollback-$i"
  run apply db.toml --yes || bad "apply before rollback kill $i: $(cat err)"
  crash_after $(($(records) + i)) "$bin" rollback db.toml --to build --yes >/dev/null 2>&1
  [ $? -eq 137 ] && ok || bad "rollback not killed at its record $i"
  run rollback db.toml --to build --yes || bad "rollback after its kill $i: $(cat err)"
  [ "$(db "$dbid" 'PubliclyAccessible,DBInstanceClass')" = "True	db.t3.micro" ] && ok || bad "rollback killed at $i: world"
  run apply db.toml --yes && run plan db.toml && grep -q "no changes" out && ok ||
    bad "rollback killed at $i: forward again: $(cat out err)"
done
finish
