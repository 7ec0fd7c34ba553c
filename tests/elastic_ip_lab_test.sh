#!/usr/bin/env bash
# elastic_ip through the binary on the lab's moto (signature checking on): an address given
# to staging and then to production, drift made with the AWS CLI shown by plan, rollback
# moving it back; every step read back with the AWS CLI. An address that is not allocated,
# and a wrong secret, are refused with what to do.
# Usage: elastic_ip_lab_test.sh PATH_TO_RECONCILE SOURCE_DIR   (RECONCILE_LAB_ENV set)
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" elastic-ip
. "${RECONCILE_LAB_ENV:?run through ctest, which starts the lab}"
export AWS_LAB_ACCESS_KEY AWS_LAB_SECRET_KEY  # for the specs' env:NAME
cd "$work" || exit 1

associated() { awscli ec2 describe-addresses --public-ips "$ip" --query 'Addresses[0].InstanceId' --output text; }
run() { "$bin" "$@" >out 2>err; }

instances=$(awscli ec2 run-instances --image-id ami-12345678 --count 2 --instance-type t3.micro \
  --query 'Instances[].InstanceId' --output text) || { bad "run-instances: $instances"; finish; exit; }
read -r staging prod <<<"$instances"
ip=$(awscli ec2 allocate-address --domain vpc --query PublicIp --output text)
[ -n "$staging" ] && [ -n "$prod" ] && [ -n "$ip" ] && ok || bad "lab setup: '$staging' '$prod' '$ip'"
testdata eip >eip.toml

run plan eip.toml && ok || bad "plan: $(cat err)"
grep -q "elastic_ip.web" out && grep -q "$staging" out && ok || bad "plan shows the association: $(cat out)"
run apply eip.toml --through staging --yes && ok || bad "apply staging: $(cat err)"
[ "$(associated)" = "$staging" ] && ok || bad "after staging, on $staging: $(associated)"
run apply eip.toml --yes && ok || bad "apply production: $(cat err)"
[ "$(associated)" = "$prod" ] && ok || bad "after production, on $prod: $(associated)"
run plan eip.toml && grep -q "no changes" out && ! grep -q "elastic_ip" out && ok || bad "plan after apply: $(cat out)"

# Drift: someone moves it back by hand; the plan shows it, the next apply puts it right.
awscli ec2 associate-address --public-ip "$ip" --instance-id "$staging" --allow-reassociation >/dev/null
run plan eip.toml && grep -q "elastic_ip.web" out && grep -q "$prod" out && ok || bad "drift in plan: $(cat out)"
run apply eip.toml --yes && [ "$(associated)" = "$prod" ] && ok || bad "drift put right: $(cat err) $(associated)"

run rollback eip.toml --to staging --yes && ok || bad "rollback to staging: $(cat err)"
[ "$(associated)" = "$staging" ] && ok || bad "rolled back to $staging: $(associated)"

# Named by its allocation id instead: the same address, moved by another spec.
alloc=$(awscli ec2 describe-addresses --public-ips "$ip" --query 'Addresses[0].AllocationId' --output text)
testdata byalloc "allocation_id = \"$alloc\"" >byalloc.toml
run apply byalloc.toml --yes && [ "$(associated)" = "$prod" ] && ok || bad "by allocation id: $(cat err) $(associated)"
run plan byalloc.toml && grep -q "no changes" out && ok || bad "by allocation id, plan after: $(cat out)"
testdata byalloc "address = \"$ip\"
allocation_id = \"$alloc\"" >both.toml
run plan both.toml && bad "an address named twice planned" || ok
grep -q "by \`address\` (its public IP) or by \`allocation_id\`, one of the two" err && ok || bad "named twice: $(cat err)"

# Not allocated: refused at apply, saying to allocate it.
secret_var=AWS_LAB_SECRET_KEY testdata missing >missing.toml
run apply missing.toml --yes && bad "an unallocated address applied" || ok
grep -q "192.0.2.99 is not an Elastic IP of $AWS_REGION; allocate it first" err && ok || bad "unallocated: $(cat err)"
# A wrong secret: AWS's code, and no secret in the output.
export WRONG_SECRET=not-the-secret
secret_var=WRONG_SECRET testdata missing >wrong.toml
run plan wrong.toml && bad "a wrong secret planned" || ok
grep -q "AuthFailure" err && ok || bad "wrong secret: $(cat err)"
grep -q "not-the-secret\|$AWS_LAB_SECRET_KEY" out err .reconcile/* 2>/dev/null && bad "a secret was shown" || ok
finish
