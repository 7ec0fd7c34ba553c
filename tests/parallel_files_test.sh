#!/usr/bin/env bash
# 200 local files applied 16 at a time, owners and groups named, ten rounds of apply and
# rollback: every apply succeeds and every file ends with the owner it was given. getpwnam
# and friends return one static buffer per process, and parallel steps once read another
# step's half-parsed passwd line ("no user 'root:x:0:0:…' on this machine").
# Usage: parallel_files_test.sh PATH_TO_RECONCILE SOURCE_DIR
set -u
bin=$1
src=$2
. "$src/tests/lib.sh" parallel-files

[ "$(id -u)" = 0 ] || { echo "needs root (files are given to daemon, bin and nobody)"; exit 1; }

n=200
rounds=${ROUNDS:-10}
root=$work/root
mkdir -p "$root"
spec=$work/files.toml
users=(root daemon bin nobody)
groups=(root daemon bin nogroup)
{
  printf 'version = 1\nname = "parallel-files"\nstages = ["one", "two"]\n'
  for i in $(seq 1 $n); do
    printf '\n[file.f%d]\nhost = "local"\nstage = "one"\npath = "%s/f%d"\n' "$i" "$root" "$i"
    printf 'content = "one %d\\n"\n' "$i"
    # Every other file names its owner; the rest keep the one they have, which a rewrite
    # looks up by uid — the two lookups race each other.
    if [ $((i % 2)) = 0 ]; then
      printf 'owner = "%s"\ngroup = "%s"\n' "${users[$((i % 4))]}" "${groups[$((i / 2 % 4))]}"
    fi
    printf '[file.f%d.at.two]\ncontent = "two %d\\n"\n' "$i" "$i"
  done
} >"$spec"

# check STAGE: content, owner and group of every file.
check() {
  local wrong=0 i want_owner want_group
  for i in $(seq 1 $n); do
    [ "$(cat "$root/f$i")" = "$1 $i" ] || wrong=$((wrong + 1))
    if [ $((i % 2)) = 0 ]; then
      want_owner=${users[$((i % 4))]}
      want_group=${groups[$((i / 2 % 4))]}
    else
      want_owner=root
      want_group=root
    fi
    [ "$(stat -c %U:%G "$root/f$i")" = "$want_owner:$want_group" ] || wrong=$((wrong + 1))
  done
  [ "$wrong" = 0 ] && ok || bad "round $round, stage $1: $wrong files with the wrong content or owner"
}

for round in $(seq 1 "$rounds"); do
  if "$bin" apply "$spec" --yes --parallelism 16 >"$work/out" 2>"$work/err"; then
    ok
  else
    bad "round $round: apply failed: $(grep -m3 -i 'error\|no user\|no group' "$work/out" "$work/err")"
  fi
  check two
  if "$bin" rollback "$spec" --to one --yes --parallelism 16 >"$work/out" 2>"$work/err"; then
    ok
  else
    bad "round $round: rollback failed: $(grep -m3 -i 'error\|no user\|no group' "$work/out" "$work/err")"
  fi
  check one
done
finish
