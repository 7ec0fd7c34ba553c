#!/usr/bin/env bash
# Plans 1k, 10k and 100k resources on the in-memory provider, each N in its own process, and
# prints the phases, peak memory and growth beside the target (100k in ≤ 2 s and ≤ 1 GiB,
# linear). No peer tool plans this workload, so the target stands where a peer would.
set -euo pipefail
cd "$(dirname "$0")/../.."
tests/install-deps.sh
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DRECONCILE_TESTS=OFF -DRECONCILE_BENCH=ON >/dev/null
cmake --build build-bench -j2 --target plan_scale >/dev/null
printf '%8s %8s %8s %8s %8s %8s %9s %10s\n' N load_s graph_s plan_s render_s total_s rss_MiB us/resource
declare -A total rss
for n in 1000 10000 100000; do
  read -r _ load graph plan render t mem _ _ _ < <(build-bench/plan_scale "$n")
  total[$n]=$t
  rss[$n]=$mem
  printf '%8s %8s %8s %8s %8s %8s %9s %10.1f\n' "$n" "$load" "$graph" "$plan" "$render" "$t" "$mem" \
    "$(echo "$t * 1000000 / $n" | bc -l)"
done
echo
printf 'target (100k):        total ≤ 2.000 s, RSS ≤ 1024 MiB\n'
printf 'measured (100k):      total   %s s (%.2fx the target), RSS %s MiB (%.2fx)\n' "${total[100000]}" \
  "$(echo "${total[100000]} / 2" | bc -l)" "${rss[100000]}" "$(echo "${rss[100000]} / 1024" | bc -l)"
printf 'growth 10k -> 100k:   time %.1fx, RSS %.1fx (linear: 10x)\n' \
  "$(echo "${total[100000]} / ${total[10000]}" | bc -l)" "$(echo "${rss[100000]} / ${rss[10000]}" | bc -l)"
