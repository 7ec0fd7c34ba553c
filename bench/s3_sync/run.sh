#!/usr/bin/env bash
# 2,000 × 4 KiB objects synced bucket→bucket on the lab's S3 server (s3rver, SigV4 checked),
# then the same sync again when nothing differs: `reconcile apply` (probe both sides, plan,
# journal, server-side copies) against `rclone sync --transfers 16 --checkers 16` and Debian's
# `aws s3 sync`, each into its own empty bucket from the same source. Prints all times and
# the ratios. Targets: reconcile <= 0.7x rclone for the sync, <= 0.5x rclone for the no-op.
# Usage: bench/s3_sync/run.sh [OBJECTS]   (needs root, like the lab; LAB_ENV=FILE reuses a
#        running lab with s3 instead of starting one)
set -euo pipefail
cd "$(dirname "$0")/../.."
n=${1:-2000}
. bench/lib.sh s3 s3
export BENCH_S3_KEY=$S3_ACCESS_KEY BENCH_S3_SECRET=$S3_SECRET_KEY
aws() {
  env -u AWS_CA_BUNDLE AWS_ACCESS_KEY_ID="$S3_ACCESS_KEY" AWS_SECRET_ACCESS_KEY="$S3_SECRET_KEY" \
    AWS_DEFAULT_REGION="$S3_REGION" /usr/bin/aws --endpoint-url "$S3_ENDPOINT" "$@"
}
rclone() {
  env -u AWS_CA_BUNDLE RCLONE_CONFIG_LAB_TYPE=s3 RCLONE_CONFIG_LAB_PROVIDER=Other \
    RCLONE_CONFIG_LAB_ENDPOINT="$S3_ENDPOINT" RCLONE_CONFIG_LAB_REGION="$S3_REGION" \
    RCLONE_CONFIG_LAB_ACCESS_KEY_ID="$S3_ACCESS_KEY" RCLONE_CONFIG_LAB_SECRET_ACCESS_KEY="$S3_SECRET_KEY" \
    RCLONE_CONFIG_LAB_FORCE_PATH_STYLE=true /usr/bin/rclone "$@"
}
seconds() { local s e; s=$(date +%s.%N); "$@" >"$work/last.out" 2>&1 || { cat "$work/last.out"; exit 1; }; e=$(date +%s.%N); echo "$e - $s" | bc -l; }
count() { aws s3 ls "s3://$1" --recursive | wc -l; }

run=$RANDOM
src=bench-src-$run
spec() { # spec SOURCE TARGET
  printf 'version = 1\nname = "s3-bench"\n[provider.s3.lab]\nendpoint = "%s"\nregion = "%s"\n' "$S3_ENDPOINT" "$S3_REGION"
  printf 'access_key = "env:BENCH_S3_KEY"\nsecret_key = "env:BENCH_S3_SECRET"\n'
  printf '[s3_sync.it]\nsource = "%s"\ntarget = "%s"\n' "$1" "$2"
}

# Setup (not timed): the source bucket filled from a folder of n random 4 KiB files, and an
# empty target bucket per tool.
mkdir -p "$work/files" "$work/fill" "$work/sync"
for i in $(seq 1 "$n"); do head -c 4096 /dev/urandom >"$work/files/obj-$(printf %05d "$i").bin"; done
for b in "$src" "bench-reconcile-$run" "bench-rclone-$run" "bench-aws-$run"; do aws s3 mb "s3://$b" >/dev/null; done
spec "$work/files" "s3://$src/" >"$work/fill/spec.toml"
(cd "$work/fill" && "$bin" apply spec.toml --yes >"$work/fill.out" 2>&1) || { cat "$work/fill.out"; exit 1; }
[ "$(count "$src")" = "$n" ] || { echo "setup: the source bucket does not hold $n objects"; exit 1; }

spec "s3://$src/" "s3://bench-reconcile-$run/" >"$work/sync/spec.toml"
cd "$work/sync"
r1=$(seconds "$bin" apply spec.toml --yes)
r2=$(seconds "$bin" apply spec.toml --yes)
! grep -q "s3_sync.it" "$work/last.out" || { echo "reconcile's re-sync was not a no-op:"; cat "$work/last.out"; exit 1; }
c1=$(seconds rclone sync "lab:$src" "lab:bench-rclone-$run" --transfers 16 --checkers 16)
c2=$(seconds rclone sync "lab:$src" "lab:bench-rclone-$run" --transfers 16 --checkers 16)
a1=$(seconds aws s3 sync "s3://$src" "s3://bench-aws-$run")
a2=$(seconds aws s3 sync "s3://$src" "s3://bench-aws-$run")
for b in reconcile rclone aws; do
  [ "$(count "bench-$b-$run")" = "$n" ] || { echo "$b: the target does not hold $n objects"; exit 1; }
done
cd - >/dev/null

printf '%-26s %11s %9s %9s %15s %13s\n' "$n x 4 KiB bucket→bucket" reconcile_s rclone_s aws_s "reconcile/rclone" "reconcile/aws"
row() { printf '%-26s %11.2f %9.2f %9.2f %14.3fx %12.3fx\n' "$1" "$2" "$3" "$4" "$(echo "$2 / $3" | bc -l)" "$(echo "$2 / $4" | bc -l)"; }
row "sync into an empty bucket" "$r1" "$c1" "$a1"
row "re-sync, nothing differs" "$r2" "$c2" "$a2"
echo "targets: sync <= 0.7x rclone, no-op re-sync <= 0.5x rclone"
