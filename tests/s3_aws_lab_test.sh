#!/usr/bin/env bash
# s3_bucket and s3_sync naming a [provider.aws.NAME], through the binary on the lab's moto
# (signature checking on), every result read back with the AWS CLI: a bucket made with
# versioning, AES256 encryption, the public access block and a policy; each changed in a
# second stage along with a folder synced into it; the plan empty after; drift made with the
# AWS CLI shown by plan; a rollback putting each setting back and taking the synced objects
# away. The account's credentials come as for every AWS type: keys, the environment, a
# profile, a session's token. A provider of another kind is refused at load. A large object
# copied bucket to bucket in one request, converged after.
# Usage: s3_aws_lab_test.sh PATH_TO_RECONCILE SOURCE_DIR   (RECONCILE_LAB_ENV set)
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" s3-aws
. "${RECONCILE_LAB_ENV:?run through ctest, which starts the lab}"
export AWS_LAB_ACCESS_KEY AWS_LAB_SECRET_KEY  # for the specs' env:NAME
cd "$work" || exit 1

run() { "$bin" "$@" >out 2>err; }
# Each setting as the AWS CLI reads it; "none" where AWS answers that there is none.
versioning() { awscli s3api get-bucket-versioning --bucket "$bucket" --query Status --output text 2>&1; }
encryption() {
  awscli s3api get-bucket-encryption --bucket "$bucket" --output text \
    --query 'ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm' 2>&1 |
    sed '/^$/d; s/.*ServerSideEncryptionConfigurationNotFoundError.*/none/'
}
blocked() {
  awscli s3api get-public-access-block --bucket "$bucket" --output text \
    --query 'PublicAccessBlockConfiguration.[BlockPublicAcls,IgnorePublicAcls,BlockPublicPolicy,RestrictPublicBuckets]' \
    2>&1 | sed '/^$/d; s/.*NoSuchPublicAccessBlockConfiguration.*/none/' | tr '\t' ' '
}
# The policy as JSON with its keys sorted, so it compares as JSON does.
policy() { awscli s3api get-bucket-policy --bucket "$bucket" --query Policy --output text 2>&1 | jq -cS . 2>&1; }
keys() { awscli s3api list-objects-v2 --bucket "$bucket" --query 'Contents[].Key' --output text 2>&1 | tr '\t' ' '; }

bucket=s3-aws-$RANDOM$RANDOM  # fresh each run: a lab left up by an earlier run starts from nothing
account=arn:aws:iam::123456789012:root
policy1='{"Version":"2012-10-17","Statement":[{"Sid":"AccountReads","Effect":"Allow","Principal":{"AWS":"'$account'"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::'$bucket'/*"}]}'
policy2='{"Version":"2012-10-17","Statement":[{"Sid":"AccountReadsVersions","Effect":"Allow","Principal":{"AWS":"'$account'"},"Action":["s3:GetObject","s3:GetObjectVersion"],"Resource":"arn:aws:s3:::'$bucket'/*"}]}'
site=$work/site
mkdir -p "$site/img"
printf 'home\n' >"$site/index.html"
head -c 3000 /dev/urandom >"$site/img/logo.png"
testdata site >site.toml

# A provider of a kind the S3 types do not take: refused at load, naming the two they do.
testdata misuse >misuse.toml
run validate misuse.toml && bad "an s3_bucket on a dns provider loaded" || ok
grep -q "misuse.toml:15:12: error: provider 'dns.campus' of s3_bucket.a is a \[provider.dns.NAME\]" err &&
  grep -q "needs a \[provider.s3.NAME\] or \[provider.aws.NAME\] table" err && ok || bad "wrong kind: $(cat err)"

run plan site.toml && ok || bad "plan: $(cat err)"
grep -q "+ s3_bucket.site" out && grep -q "copy: 2 objects, 2.9 KiB not in the target" out && ok ||
  bad "plan makes the bucket, then uploads: $(cat out)"

# Stage one: the bucket and each of its settings.
run apply site.toml --through one --yes && ok || bad "apply one: $(cat err)"
[ "$(versioning)" = Enabled ] && ok || bad "versioning after one: $(versioning)"
[ "$(encryption)" = AES256 ] && ok || bad "encryption after one: $(encryption)"
[ "$(blocked)" = "True True True True" ] && ok || bad "public access block after one: $(blocked)"
[ "$(policy)" = "$(jq -cS . <<<"$policy1")" ] && ok || bad "policy after one: $(policy)"

# Stage two: each setting changed, and the folder uploaded into the bucket by the same account.
run apply site.toml --yes && ok || bad "apply two: $(cat err)"
[ "$(versioning)" = Suspended ] && ok || bad "versioning after two: $(versioning)"
[ "$(encryption)" = aws:kms ] && ok || bad "encryption after two: $(encryption)"
[ "$(blocked)" = none ] && ok || bad "public access block after two: $(blocked)"
[ "$(policy)" = "$(jq -cS . <<<"$policy2")" ] && ok || bad "policy after two: $(policy)"
[ "$(keys)" = "img/logo.png index.html" ] && ok || bad "synced keys: $(keys)"
cmp -s <(awscli s3 cp "s3://$bucket/img/logo.png" - 2>/dev/null) "$site/img/logo.png" && ok ||
  bad "the upload byte for byte"
run plan site.toml && grep -qi "no changes" out && ! grep -q "s3_" out && ok || bad "plan after apply: $(cat out)"

# The same policy spaced and ordered otherwise is the same policy.
awscli s3api put-bucket-policy --bucket "$bucket" --policy "$(jq -S . <<<"$policy2")" >/dev/null
run plan site.toml && grep -qi "no changes" out && ok || bad "a respaced policy planned: $(cat out)"

# Drift made by hand: the plan shows each setting it touched, as it is and as it should be.
awscli s3api put-bucket-encryption --bucket "$bucket" \
  --server-side-encryption-configuration '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"AES256"}}]}'
awscli s3api put-bucket-policy --bucket "$bucket" --policy "$policy1"
awscli s3api put-public-access-block --bucket "$bucket" --public-access-block-configuration \
  BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true
run plan site.toml && ok || bad "plan of drift: $(cat err)"
grep -q "~ s3_bucket.site" out && ok || bad "drift shown: $(cat out)"
grep -q 'encryption: *"AES256" → "aws:kms"' out && ok || bad "encryption drift: $(cat out)"
grep -q 'public_access_block: *true → false' out && ok || bad "public access block drift: $(cat out)"
# A policy is long: shown by its size and hash.
grep -q "policy: *<${#policy1} bytes, sha256 [0-9a-f]*> → <${#policy2} bytes" out && ok || bad "policy drift: $(cat out)"
! grep -q "versioning" out && ok || bad "versioning did not drift: $(cat out)"

# Rolling back over drift someone made is refused unless forced, then puts stage one back.
run rollback site.toml --to one --yes && bad "a rollback over drift ran without --force" || ok
grep -q "s3_bucket.site" err && grep -q -- "--force" err && ok || bad "the drift named: $(cat err)"
run rollback site.toml --to one --yes --force && ok || bad "rollback to one: $(cat err)"
[ "$(versioning)" = Enabled ] && ok || bad "versioning rolled back: $(versioning)"
[ "$(encryption)" = AES256 ] && ok || bad "encryption rolled back: $(encryption)"
[ "$(blocked)" = "True True True True" ] && ok || bad "public access block rolled back: $(blocked)"
[ "$(policy)" = "$(jq -cS . <<<"$policy1")" ] && ok || bad "policy rolled back: $(policy)"
[ "$(keys)" = None ] && ok || bad "the upload taken away: $(keys)"
# A complete stage is not planned again: said so, not "no changes" (the checks above are the world).
run plan site.toml --stage one && grep -q "Stage 'one' is complete, and a complete stage is not planned again" out &&
  ok || bad "stage one complete: $(cat out)"

# The account's keys found as every AWS type finds them: the environment, then a profile.
run_chain() { testdata chain "$1" >chain.toml && run plan chain.toml && grep -qi "no changes" out; }
AWS_ACCESS_KEY_ID=$AWS_LAB_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$AWS_LAB_SECRET_KEY AWS_CONFIG_FILE=/dev/null \
  AWS_SHARED_CREDENTIALS_FILE=/dev/null run_chain "" && ok || bad "keys from the environment: $(cat out err)"
printf '[lab]\naws_access_key_id = %s\naws_secret_access_key = %s\n' "$AWS_LAB_ACCESS_KEY" "$AWS_LAB_SECRET_KEY" \
  >credentials
(
  unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
  AWS_SHARED_CREDENTIALS_FILE=$work/credentials AWS_CONFIG_FILE=/dev/null run_chain 'profile = "lab"'
) && ok || bad "keys from a profile: $(cat out err)"

# A session's keys: signed with its token, which moto checks; a wrong token is refused.
awscli iam create-role --role-name s3-aws-$bucket --assume-role-policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:user/lab"},"Action":"sts:AssumeRole"}]}' \
  >/dev/null
awscli iam put-role-policy --role-name s3-aws-$bucket --policy-name all --policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
read -r SESSION_KEY SESSION_SECRET SESSION_TOKEN < <(awscli sts assume-role --role-arn \
  "arn:aws:iam::123456789012:role/s3-aws-$bucket" --role-session-name lab --output text \
  --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]')
export SESSION_KEY SESSION_SECRET SESSION_TOKEN
session='access_key = "env:SESSION_KEY"
secret_key = "env:SESSION_SECRET"
session_token = "env:SESSION_TOKEN"'
[ -n "$SESSION_TOKEN" ] && run_chain "$session" && ok || bad "a session's keys and token: $(cat out err)"
SESSION_TOKEN=not-the-token run_chain "$session" && bad "a wrong session token was accepted" || ok
grep -q "reading s3://$bucket: 400 InvalidToken" err && ok || bad "the wrong token refused by S3: $(cat err)"

# Bucket to bucket, an object the AWS CLI uploaded in parts (its ETag "…-3") over the
# multipart threshold: one CopyObject, which AWS (and moto) answers with a plain MD5 ETag, so
# the source's is kept in the copy's metadata and the next plan still finds nothing to do.
awscli s3 mb "s3://$bucket-from" >/dev/null
head -c $((17 * 1024 * 1024 + 5)) /dev/urandom >large.bin
awscli s3 cp large.bin "s3://$bucket-from/large.bin" --content-type application/x-lab --cache-control max-age=60 \
  --metadata owner=ops >/dev/null
awscli s3 cp - "s3://$bucket-from/small.txt" <<<"small" >/dev/null
etag() { awscli s3api head-object --bucket "$1" --key "$2" --query ETag --output text 2>&1 | tr -d '"'; }
[[ "$(etag "$bucket-from" large.bin)" == *-3 ]] && ok || bad "a multipart ETag to copy: $(etag "$bucket-from" large.bin)"
testdata copy >copy.toml
run apply copy.toml --yes && ok || bad "apply copy: $(cat err)"
cmp -s <(awscli s3 cp "s3://$bucket-to/large.bin" - 2>/dev/null) large.bin && ok || bad "the copy byte for byte"
kept=$(awscli s3api head-object --bucket "$bucket-to" --key large.bin --output json 2>&1)
[ "$(jq -r '.Metadata["reconcile-source-etag"]' <<<"$kept")" = "$(etag "$bucket-from" large.bin)" ] && ok ||
  bad "the source's ETag kept beside the copy: $kept"
# Replacing the metadata to keep that ETag loses none of the source's (aws s3 cp --copy-props).
[ "$(jq -r '[.ContentType, .CacheControl, .Metadata.owner] | join(" ")' <<<"$kept")" = "application/x-lab max-age=60 ops" ] &&
  ok || bad "the source's content type, cache control and metadata kept: $kept"
[ "$(awscli s3 cp "s3://$bucket-to/small.txt" - 2>/dev/null)" = small ] && ok || bad "the small object copied"
run plan copy.toml --detailed-exitcode && ok || bad "plan after the copy: $(cat out err)"

# Secrets stay out of the journal and every output.
! grep -rqF -e "$AWS_LAB_SECRET_KEY" -e "$SESSION_SECRET" .reconcile out err && ok || bad "a secret was written somewhere"
finish
