#!/usr/bin/env bash
# What users run, at scale: the reconcile binary on generated specs of N local `file`
# resources over four stages (overlays, `after`, references: make_spec.py), N = 1k, 10k, 100k
# and 1M, each command in its own process, timed with its peak RSS:
#   validate; plan (files absent); for N <= 100k, apply --yes making the files, then the
#   apply that follows it, a no-op (files there and matching, journal beside the spec);
#   the harness (plan_scale N: the in-memory provider, no process or disk in the way);
#   a chain (each file's content is the one before's) planned at 10k and 100k, timed and, with
#   valgrind, counted in instructions (the work's growth, apart from what caches add).
# Prints a table with the growth per 10x and the RSS per resource, then each target of
# issue 23 beside the measured value.
# Usage: bench/plan_scale/run.sh [BUILD_DIR]   (or RECONCILE_BENCH_BUILD=DIR; default: a
#   Release build in build-bench/). PLAN_SCALE_MAX=N: the largest N the binary runs at
#   (default 1000000; the harness always runs at 1M, where its target is). About 7-8 min on
#   2 cores: the 1M rows take ~45 s, the apply making 100k files 2-3 min (disk syncs, not CPU),
#   the instruction counts ~2.5 min.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-${RECONCILE_BENCH_BUILD:-}}
if [ -z "$build" ]; then
  build=build-bench
  tests/install-deps.sh
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DRECONCILE_TESTS=OFF -DRECONCILE_BENCH=ON >/dev/null
  cmake --build build-bench -j2 --target reconcile plan_scale >/dev/null
fi
build=$(cd "$build" && pwd)
max=${PLAN_SCALE_MAX:-1000000}
work=$(mktemp -d /tmp/reconcile-plan-scale-XXXXXX)
trap 'rm -rf "$work"' EXIT

declare -A secs mib why instr
failed=0
# measure PHASE N CMD...: keeps CMD's seconds and peak RSS; a failure is shown, not fatal,
# so one broken phase still leaves the others' figures.
measure() {
  local phase=$1 n=$2 s kb
  shift 2
  echo "plan_scale: ${SECONDS}s: $phase $n" >&2
  if /usr/bin/time -f '%e %M' -o "$work/time" "$@" >"$work/out" 2>"$work/err"; then
    read -r s kb < <(tail -1 "$work/time")
    secs[$phase,$n]=$s
    mib[$phase,$n]=$(awk -v k="$kb" 'BEGIN { printf "%.1f", k / 1024 }')
  else
    failed=1
    why[$phase,$n]=$(head -1 "$work/time")
    echo "plan_scale: $phase $n failed (${why[$phase,$n]}):" >&2
    tail -n 5 "$work/err" >&2 || true
  fi
}

ns=(1000 10000 100000 1000000)
for n in "${ns[@]}"; do
  if [ "$n" -le "$max" ]; then
    dir=$work/$n
    mkdir "$dir"
    python3 bench/plan_scale/make_spec.py "$n" "$dir"
    measure validate "$n" "$build/reconcile" validate "$dir/spec.toml"
    measure plan "$n" "$build/reconcile" plan "$dir/spec.toml"
    if [ "$n" -le 100000 ]; then
      measure apply_make "$n" "$build/reconcile" apply --yes "$dir/spec.toml"
      measure apply_noop "$n" "$build/reconcile" apply --yes "$dir/spec.toml"
    fi
    rm -rf "$dir"  # not left to the exit trap: 100k files' inodes, and a journal no other N reads
  fi
  # The harness prints its own figures: N load graph plan render total rss ...
  echo "plan_scale: ${SECONDS}s: harness $n" >&2
  read -r _ _ _ _ _ s kb _ < <("$build/plan_scale" "$n") || { failed=1; why[harness,$n]=failed; continue; }
  secs[harness,$n]=$s
  mib[harness,$n]=$kb
done
for n in 10000 100000; do
  dir=$work/chain$n
  mkdir "$dir"
  python3 bench/plan_scale/make_spec.py "$n" "$dir" --chain
  measure chain_plan "$n" "$build/reconcile" plan "$dir/spec.toml"
  # The work itself, counted in instructions (valgrind's, as this machine's VM has no hardware
  # counters): whether it is linear, apart from the time caches and page faults add.
  instr_why="valgrind not installed (apt-get install valgrind)"
  if command -v valgrind >/dev/null; then
    instr_why="valgrind failed: see its output with the bench's commands"
    echo "plan_scale: ${SECONDS}s: chain_plan $n instructions (valgrind, about 2 min at 100k)" >&2
    valgrind --tool=callgrind --callgrind-out-file="$work/callgrind" "$build/reconcile" plan "$dir/spec.toml" \
      >/dev/null 2>"$work/callgrind.err" || true
    instr[$n]=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/callgrind.err")
  fi
  rm -rf "$dir" "$work/callgrind"
done

printf '\n%-11s %8s %9s %9s %7s %7s %9s\n' phase N seconds rss_MiB time_x rss_x KiB/res
for phase in validate plan apply_make apply_noop harness chain_plan; do
  prev=
  for n in "${ns[@]}"; do
    if [ -n "${why[$phase,$n]:-}" ]; then
      printf '%-11s %8d   %s\n' "$phase" "$n" "${why[$phase,$n]}"
      prev=
      continue
    fi
    [ -n "${secs[$phase,$n]:-}" ] || continue
    awk -v p="$phase" -v n="$n" -v s="${secs[$phase,$n]}" -v m="${mib[$phase,$n]}" \
      -v ps="${prev:+${secs[$phase,$prev]}}" -v pm="${prev:+${mib[$phase,$prev]}}" 'BEGIN {
        tx = ps > 0 ? sprintf("%.1f", s / ps) : "-"; rx = pm > 0 ? sprintf("%.1f", m / pm) : "-"
        printf "%-11s %8d %9.3f %9.1f %7s %7s %9.2f\n", p, n, s, m, tx, rx, m * 1024 / n }'
    prev=$n
  done
done

# target LABEL VALUE LIMIT UNIT [WHY]: the measured value beside its limit, the ratio and the
# verdict; with no value, WHY there is none.
target() {
  if [ -z "$2" ]; then
    printf '%-38s %10s %10s %7s  %s\n' "$1" - "$3 $4" - "MISS (${5:-not measured})"
  else
    awk -v l="$1" -v m="$2" -v t="$3" -v u="$4" 'BEGIN {
      printf "%-38s %10s %10s %6.2fx  %s\n", l, m " " u, t " " u, m / t, m <= t ? "PASS" : "MISS" }'
  fi
}
seconds() { target "$1 $(($2 / 1000))k" "${secs[$1,$2]:-}" "$3" s "${why[$1,$2]:-}"; }
echo
echo "No peer tool plans this workload (bench/fleet compares with Ansible), so the targets stand where a peer would."
printf '%-38s %10s %10s %7s  %s\n' target measured limit ratio verdict
seconds validate 100000 1
seconds plan 100000 2
seconds harness 100000 1
seconds harness 1000000 15
target "harness 1000k peak RSS" "${mib[harness,1000000]:-}" 1536 MiB "${why[harness,1000000]:-}"
seconds chain_plan 100000 2
chain_growth=
[ -n "${secs[chain_plan,10000]:-}" ] && [ -n "${secs[chain_plan,100000]:-}" ] &&
  chain_growth=$(awk -v a="${secs[chain_plan,10000]}" -v b="${secs[chain_plan,100000]}" 'BEGIN { printf "%.1f", b / a }')
work_growth=
[ -n "${instr[10000]:-}" ] && [ -n "${instr[100000]:-}" ] &&
  work_growth=$(awk -v a="${instr[10000]}" -v b="${instr[100000]}" 'BEGIN { printf "%.1f", b / a }')
target "chain_plan work growth 10k->100k (linear)" "$work_growth" 10 x "$instr_why"
printf '  %s\n' "instructions: ${instr[10000]:-?} at 10k, ${instr[100000]:-?} at 100k; time grew ${chain_growth:-?}x:" \
  "the same work per resource, slower where 100k's working set no longer fits the caches"
exit "$failed"
