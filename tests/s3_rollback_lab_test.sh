#!/usr/bin/env bash
# Through the reconcile binary, against the lab's S3 server (s3rver, which checks SigV4): a
# bucket, a local directory synced into it (a large file in parts), that bucket synced into
# another server-side (the large object in one CopyObject), a re-sync that is a no-op, a
# changed object copied again, a rollback that removes what the syncs created, and a wrong
# secret refused. Every result is read back with the AWS CLI, not with reconcile's own client.
# Usage: s3_rollback_lab_test.sh PATH_TO_RECONCILE SOURCE_DIR   (RECONCILE_LAB_ENV set)
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" s3-rollback
. "${RECONCILE_LAB_ENV:?run through ctest, which starts the lab}"

export LAB_S3_KEY=$S3_ACCESS_KEY LAB_S3_SECRET=$S3_SECRET_KEY
aws() {
  env -u AWS_CA_BUNDLE AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET_KEY" \
    AWS_DEFAULT_REGION="$S3_REGION" /usr/bin/aws --endpoint-url "$S3_ENDPOINT" "$@"
}
keys() { aws s3api list-objects-v2 --bucket "$1" --query 'Contents[].Key' --output text 2>&1 | tr '\t' '\n' | sort | tr '\n' ' '; }
body() { aws s3 cp "s3://$1" - 2>/dev/null; }

site=$work/site
mkdir -p "$site/img" "$site/odd name"
printf 'home\n' >"$site/index.html"
printf 'about\n' >"$site/about.html"
head -c 4096 /dev/urandom >"$site/img/logo.png"
# No '+' in keys here: s3rver decodes x-amz-copy-source with decodeURI, which keeps %2B, so
# its server-side copy of such a key fails for every client (the AWS CLI too).
printf 'spaces and accents\n' >"$site/odd name/a b é.txt"
head -c $((6 * 1024 * 1024 + 17)) /dev/urandom >"$site/img/large.bin"

testdata cut >"$work/cut.toml"
cd "$work" || exit 1
# Fresh names each run, so a run against a lab left up by an earlier one starts from nothing.
run=$RANDOM
sed -i "s/cut-old/cut-old-$run/g; s/cut-new/cut-new-$run/g" cut.toml

# A wrong secret: refused with S3's own words, and nothing is created.
LAB_S3_SECRET=not-the-secret "$bin" apply cut.toml --yes >out 2>err && bad "a wrong secret was accepted" || ok
grep -q "SignatureDoesNotMatch" err && ok || bad "wrong secret named: $(cat err)"
aws s3api head-bucket --bucket cut-old-$run >/dev/null 2>&1 && bad "a bucket was created with the wrong secret" || ok

"$bin" plan cut.toml --explain >out 2>err && ok || bad "plan: $(cat err)"
grep -q "+ s3_bucket.old" out && ok || bad "plan creates the bucket: $(cat out)"
grep -q "copy: 5 objects, 6.0 MiB not in the target" out && ok || bad "plan counts objects and bytes: $(cat out)"
grep -q "odd name/a b é.txt (19 B)" out && ok || bad "--explain lists the keys: $(cat out)"

# Before the syncs, the new bucket already holds an older page and a stray object.
"$bin" apply cut.toml --through prepare --yes >out 2>err && ok || bad "apply prepare: $(cat err)"
aws s3 cp - "s3://cut-new-$run/index.html" <<<"old home" >/dev/null
aws s3 cp - "s3://cut-new-$run/stray.txt" <<<"stray" >/dev/null

"$bin" apply cut.toml --through upload --yes >out 2>err && ok || bad "apply through upload: $(cat err)"
[ "$(keys cut-old-$run)" = "www/about.html www/img/large.bin www/img/logo.png www/index.html www/odd name/a b é.txt " ] &&
  ok || bad "uploaded keys: $(keys cut-old-$run)"
for f in index.html img/logo.png img/large.bin "odd name/a b é.txt"; do
  cmp -s <(body "cut-old-$run/www/$f") "$site/$f" && ok || bad "uploaded byte for byte: $f"
done
grep -q "uploaded 5 objects, 6.0 MiB" err && ok || bad "progress names objects and bytes: $(cat err)"

# The same world again: nothing to do for the upload.
"$bin" plan cut.toml >out 2>&1 && ok || bad "plan after the upload: $(cat out)"
! grep -q "s3_sync.upload" out && ok || bad "re-sync is a no-op: $(cat out)"
grep -q "replace: 1 object, 5 B that differ from the source" out && ok || bad "the old page is to be replaced: $(cat out)"
grep -q "delete:  1 object, 6 B not in the source" out && ok || bad "the stray is to be deleted: $(cat out)"

# Overwriting and deleting in a bucket without versions cannot be undone: said, and refused
# until allowed.
"$bin" apply cut.toml --yes >out 2>err && bad "an overwrite in an unversioned bucket ran without --allow-irreversible" || ok
grep -q "keeps no versions" err && ok || bad "why it is irreversible: $(cat err)"
"$bin" apply cut.toml --yes --allow-irreversible >out 2>err && ok || bad "apply copy: $(cat err)"
[ "$(keys cut-new-$run)" = "about.html img/large.bin img/logo.png index.html odd name/a b é.txt " ] && ok ||
  bad "copied keys, the stray deleted: $(keys cut-new-$run)"
cmp -s <(body "cut-new-$run/img/large.bin") "$site/img/large.bin" && ok || bad "the large object copied byte for byte"
# Over multipart_threshold_mib, yet one CopyObject: a copy in parts would have kept the
# source's ETag in the object's metadata for the probe; one request keeps the ETag itself.
head_of() { aws s3api head-object --bucket "$1" --key "$2" --query '[ETag,Metadata]' --output json 2>&1 | jq -c .; }
[ "$(head_of "cut-new-$run" img/large.bin)" = "[$(head_of "cut-old-$run" www/img/large.bin | jq -c '.[0]'),{}]" ] &&
  ok || bad "the large object copied in one request: $(head_of "cut-new-$run" img/large.bin)"
[ "$(body "cut-new-$run/index.html")" = "home" ] && ok || bad "the old page replaced: $(body "cut-new-$run/index.html")"
grep -q "copied 5 objects" err && ok || bad "server-side copy reported: $(cat err)"
"$bin" plan cut.toml --detailed-exitcode >out 2>&1 && ok || bad "converged after copy: $(cat out)"

# A changed file is uploaded again, and the copy that follows the upload picks it up.
printf 'home, new\n' >"$site/index.html"
"$bin" plan cut.toml --json >plan.json 2>err && ok || bad "plan --json: $(cat err)"
grep -q '"summary": *"1 object, 10 B that differ from the source"' plan.json && ok || bad "json summary: $(cat plan.json)"
"$bin" apply cut.toml --yes --allow-irreversible >out 2>err && ok || bad "apply the change: $(cat err)"
[ "$(body "cut-new-$run/index.html")" = "home, new" ] && ok || bad "changed object re-copied: $(body "cut-new-$run/index.html")"

# The upload ran again in stage copy (the changed page). Going back to the end of upload keeps
# the upload as upload wants it (the page is in place): only the copy is undone. The lists the
# second upload journaled describe the world before it, not what upload wants.
"$bin" rollback cut.toml --to upload --dry-run >out 2>&1
grep -q "s3_sync.copy" out && ok || bad "the copy is to be undone: $(cat out)"
! grep -q "s3_sync.upload" out && ok || bad "a rollback to upload would undo the upload it keeps: $(cat out)"
[ "$(body "cut-old-$run/www/index.html")" = "home, new" ] && ok || bad "the dry run changed nothing"

# Someone writes over a page the copy made: theirs now, never deleted by a rollback.
aws s3 cp - "s3://cut-new-$run/about.html" <<<"about, theirs" >/dev/null

# Back to the end of prepare: what the syncs created goes; the page they overwrote and the
# stray they deleted cannot come back (no versions), and the rollback says so first.
"$bin" rollback cut.toml --to prepare --yes >out 2>err && bad "rollback over a changed page" || ok
grep -q "changed since reconcile last wrote them" err && grep -q "s3_sync.copy" err && grep -q -- "--force" err && ok ||
  bad "the changed page stops the rollback: $(cat out err)"
"$bin" rollback cut.toml --to prepare --yes --force >out 2>err && bad "rollback ran past an irreversible step: $(cat out err)" || ok
grep -q "2 objects the sync overwrote or deleted cannot be put back" err && ok || bad "what is lost is named: $(cat err)"
"$bin" rollback cut.toml --to prepare --yes --allow-irreversible --force >out 2>err && ok || bad "rollback: $(cat err)"
[ "$(keys cut-old-$run)" = "None " ] && ok || bad "the upload undone: $(keys cut-old-$run)"
# The upload is undone before the copy, which then finds its source empty: each page the copy
# made is extra to it, and only one still as the copy wrote it is removed (a user trial saw the
# changed page deleted too).
[ "$(keys cut-new-$run)" = "about.html index.html " ] && ok ||
  bad "the copy undone but for the lost page and the page someone changed: $(keys cut-new-$run)"
[ "$(body "cut-new-$run/about.html")" = "about, theirs" ] && ok || bad "their page kept as they wrote it"
aws s3 rm "s3://cut-new-$run/about.html" >/dev/null
"$bin" plan cut.toml >out 2>&1 && ok || bad "plan after rollback: $(cat out)"
grep -q "copy: 5 objects, 6.0 MiB not in the target" out && ok || bad "the upload is to be done again: $(cat out)"

# Settings the server does not have are said to be missing, not pretended.
testdata v >v.toml
"$bin" plan v.toml >out 2>err && ok || bad "plan of settings: $(cat err)"
grep -q 'versioning: *not implemented by this server (.*), wanted true' out && ok || bad "versioning unsupported shown: $(cat out)"
grep -q 'encryption: *not implemented by this server (501 NotImplemented), wanted "AES256"' out && ok || bad "encryption: $(cat out)"
"$bin" apply v.toml --yes >out 2>err && bad "an unsupported setting applied" || ok
grep -q "does not implement" err && ok || bad "apply says the server lacks it: $(cat err)"

# Secrets stay out of the journal and every output.
! grep -rq "$S3_SECRET_KEY" .reconcile out err plan.json && ok || bad "the secret was written somewhere"
finish
