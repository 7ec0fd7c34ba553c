#!/usr/bin/env bash
# Does a command's cost grow with the journal? The same apply of 1,000 local files, each run
# changing every file's content (A, then B, then A ...), 17 times: every run reads what the
# journal adds up to before it plans. Before checkpoints, each run re-read every record ever
# written (the 17th took 2.65 s against the 1st's 0.19 s); with them, a run reads the last
# checkpoint and the records after it. Prints each run's time, and the 17th against the 2nd
# (the 1st starts from an empty journal). Target: flat, the 17th within 15% of the 2nd.
# Usage: bench/journal/growth.sh [RUNS]   (RECONCILE_BENCH_BUILD=DIR: time that build's binary)
set -euo pipefail
cd "$(dirname "$0")/../.."
runs=${1:-17}
n=1000
. bench/lib.sh journal-growth
spec() {  # spec TEXT → $work/TEXT.toml
  {
    printf 'version = 1\nname = "growth"\n'
    for i in $(seq 1 "$n"); do
      printf '[file.f%s]\nhost = "local"\npath = "%s/files/f%s"\ncontent = "%s %s\\n"\n' "$i" "$work" "$i" "$1" "$i"
    done
  } >"$work/$1.toml"
}
mkdir -p "$work/files"
spec A
spec B
now() { date +%s.%N; }
# series NAME [--no-checkpoint]: the runs, each timed, from no files and no journal; the first
# deletes the checkpoint before each run, so every record is read again, as before checkpoints.
declare -A took
series() {
  rm -rf "$work/.reconcile" "$work/files"
  mkdir -p "$work/files"
  for k in $(seq 1 "$runs"); do
    text=$([ $((k % 2)) = 1 ] && echo A || echo B)
    [ -z "${2:-}" ] || rm -f "$work/.reconcile/growth.journal.checkpoint"
    s=$(now)
    (cd "$work" && "$bin" apply "$text.toml" --yes >"$work/out" 2>&1) || { cat "$work/out"; exit 1; }
    e=$(now)
    took[$1,$k]=$(echo "$e - $s" | bc -l)
    [ "$(cat "$work/files/f$n")" = "$text $n" ] || { echo "bench: run $k did not write its content"; exit 1; }
  done
}
series without --no-checkpoint
series with
journal=$(stat -c %s "$work/.reconcile/growth.journal")
checkpoint=$(stat -c %s "$work/.reconcile/growth.journal.checkpoint" 2>/dev/null || echo 0)
printf '%-30s %16s %20s %8s
' "the same $n-file apply" "with checkpoint" "every record read" ratio
for k in $(seq 1 "$runs"); do
  printf '%-30s %16.3f %20.3f %7.2fx\n' "run $k" "${took[with,$k]}" "${took[without,$k]}" \
    "$(echo "${took[with,$k]} / ${took[without,$k]}" | bc -l)"
done
ratio=$(echo "${took[with,$runs]} / ${took[with,2]}" | bc -l)
grown=$(echo "${took[without,$runs]} / ${took[without,2]}" | bc -l)
printf 'journal %d bytes, its checkpoint %d bytes\n' "$journal" "$checkpoint"
printf 'run %d against run 2: %.2fx with the checkpoint, %.2fx reading every record\n' "$runs" "$ratio" "$grown"
printf 'target: flat (<= 1.15x): %s\n' "$(echo "$ratio <= 1.15" | bc -l | sed 's/1/met/; s/0/NOT met/')"
