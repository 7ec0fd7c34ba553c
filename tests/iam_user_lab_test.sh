#!/usr/bin/env bash
# iam_user through the binary on the lab's moto (signature checking on): a user made with its
# inline policy, the policy tightened in the next stage, drift made with the AWS CLI shown by
# plan and put back by a rollback; the same policy laid out otherwise plans nothing; a user
# with an access key retired only with --allow-irreversible (the plan says its key's secret is
# lost) and re-created by a rollback without it. Every step read back with the AWS CLI. Bad
# names, paths and JSON are refused at load, and IAM's refusal names the action and its code.
# Usage: iam_user_lab_test.sh PATH_TO_RECONCILE SOURCE_DIR   (RECONCILE_LAB_ENV set)
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" iam-user
. "${RECONCILE_LAB_ENV:?run through ctest, which starts the lab}"
export AWS_LAB_ACCESS_KEY AWS_LAB_SECRET_KEY  # for the specs' env:NAME
cd "$work" || exit 1

# IAM is global in moto and outlives a test: a name of this run's own, so it can run twice.
user=tmp-migrator-${work##*-}
run() { "$bin" "$@" >out 2>err; }
user_path() { awscli iam get-user --user-name "$user" --query User.Path --output text 2>&1; }
# The Action of the reconcile policy's first statement, as the CLI reads it ("none" without one).
actions() {
  awscli iam get-user-policy --user-name "$user" --policy-name reconcile --query 'PolicyDocument.Statement[0].Action' \
    --output json 2>/dev/null | jq -c . || echo none
}
keys() { awscli iam list-access-keys --user-name "$user" --query 'length(AccessKeyMetadata)' --output text 2>&1; }

testdata iam >iam.toml
run plan iam.toml && ok || bad "plan: $(cat err)"
grep -q "+ iam_user.migrator" out && grep -q "~ iam_user.migrator" out && ok || bad "plan: create, then update: $(cat out)"
grep -q "irreversible:" out && bad "plan: nothing irreversible here: $(cat out)" || ok

run apply iam.toml --through create --yes && ok || bad "apply create: $(cat err)"
[ "$(user_path)" = /cutover/ ] && ok || bad "user made under /cutover/: $(user_path)"
[ "$(actions)" = '"s3:*"' ] && ok || bad "create's policy: $(actions)"
run apply iam.toml --yes && ok || bad "apply tighten: $(cat err)"
[ "$(actions)" = '["s3:GetObject","s3:ListBucket"]' ] && ok || bad "tighten's policy: $(actions)"
[ "$(user_path)" = /cutover/ ] && ok || bad "path kept: $(user_path)"
run plan iam.toml --detailed-exitcode && grep -q "no changes" out && ! grep -q "iam_user" out && ok ||
  bad "plan after apply: $(cat out) $(cat err)"

# The same policy, spaced and ordered otherwise: the same JSON, no change.
testdata same >same.toml
run plan same.toml --detailed-exitcode && grep -q "no changes" out && ok || bad "same JSON planned a change: $(cat out)"

# Drift: someone widens the policy by hand. The plan shows it; a rollback stops on it unless
# --force, then puts the first stage's policy back.
awscli iam put-user-policy --user-name "$user" --policy-name reconcile \
  --policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}' &&
  [ "$(actions)" = '"*"' ] && ok || bad "drift made: $(actions)"
run plan iam.toml --detailed-exitcode
[ $? = 2 ] && grep -q "~ iam_user.migrator" out && grep -q "policy:" out && ok || bad "drift in plan: $(cat out)"
run rollback iam.toml --to create --yes && bad "a rollback over drift ran" || ok
grep -q "iam_user.migrator policy: reconcile wrote" err && ok || bad "rollback names the drift: $(cat err)"
[ "$(actions)" = '"*"' ] && ok || bad "refused rollback changed nothing: $(actions)"
run rollback iam.toml --to create --yes --force && ok || bad "rollback --force: $(cat err)"
[ "$(actions)" = '"s3:*"' ] && ok || bad "rolled back to create's policy: $(actions)"
[ "$(user_path)" = /cutover/ ] && ok || bad "rollback kept the user: $(user_path)"

# Retired with an access key: planned from the spec alone, the plan cannot know the keys yet
# and says so; planned from the world, it counts them.
testdata retire >retire.toml
run plan retire.toml && grep -q "! *- iam_user.migrator" out &&
  grep -q "deletes any access keys it has by then" out && ok || bad "retire planned ahead: $(cat out)"
run apply retire.toml --through keep --yes && ok || bad "apply keep (adopted as it is): $(cat err)"
grep -q "iam_user.migrator" out err && bad "adopting changed it: $(cat out err)" || ok
awscli iam create-access-key --user-name "$user" >key.json && [ "$(keys)" = 1 ] && ok || bad "access key made: $(keys)"
run plan retire.toml && grep -q "deleting $user deletes its 1 access key(s); their secrets cannot be recovered" out &&
  ok || bad "plan says the key is lost: $(cat out)"
run apply retire.toml --yes && bad "an irreversible delete ran without --allow-irreversible" || ok
grep -q "allow-irreversible" err && [ "$(keys)" = 1 ] && ok || bad "refused, key kept: $(cat err) $(keys)"
run apply retire.toml --yes --allow-irreversible && ok || bad "apply retire: $(cat err)"
user_path | grep -q NoSuchEntity && ok || bad "user deleted: $(user_path)"
run plan retire.toml --detailed-exitcode && grep -q "no changes" out && ok || bad "plan after retire: $(cat out)"

# Back to keep: the user again, path and policy as the spec says, but no key (its secret is gone).
run rollback retire.toml --to keep --yes && ok || bad "rollback to keep: $(cat err)"
[ "$(user_path)" = /cutover/ ] && ok || bad "user re-created: $(user_path)"
[ "$(actions)" = '"s3:*"' ] && ok || bad "its policy back: $(actions)"
[ "$(keys)" = 0 ] && ok || bad "no key comes back: $(keys)"
old_key=$(jq -r .AccessKey.AccessKeyId key.json)
grep -rq "$(jq -r .AccessKey.SecretAccessKey key.json)" .reconcile out err && bad "a key's secret was written" || ok
[ -n "$old_key" ] && ok || bad "the key made had an id: $(cat key.json)"

# What IAM refuses: the error names the resource, the action and IAM's code.
testdata malformed >malformed.toml
run apply malformed.toml --yes && bad "a policy without a Statement applied" || ok
grep -q "iam_user.nostatement: iam PutUserPolicy: MalformedPolicyDocument" err && ok || bad "IAM's refusal: $(cat err)"

# Refused at load, each where it is written, saying what is allowed.
testdata bad >bad.toml
run validate bad.toml && bad "a bad spec validated" || ok
line() { grep -n "^$1" bad.toml | cut -d: -f1; }  # where the line starting with $1 is
grep -q "bad.toml:$(line 'name = "tmp migrator"'):8: error: attribute 'name' of iam_user.badname: an IAM user name is 1 to 64" err &&
  ok || bad "bad name: $(cat err)"
grep -q "bad.toml:$(line 'path = '):8: error: attribute 'path' of iam_user.badpath: an IAM path starts and ends with" err &&
  ok || bad "bad path: $(cat err)"
grep -q "bad.toml:$(line 'policy = '):10: error: attribute 'policy' of iam_user.badjson: the policy is not JSON (line 2, column" \
  err && ok || bad "bad JSON: $(cat err)"
finish
