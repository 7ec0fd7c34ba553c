#!/usr/bin/env bash
# `reconcile validate` of generated specs with one stage per resource (each with an overlay at
# the next stage): 10k, 40k and 100k stages, each in its own process, with peak memory and the
# growth from 10k (linear: 4x to 40k, 10x to 100k). Issue 17 measured the quadratic loader at
# 3.7 s for 10k and 31 s for 40k stages. Usage: bench/validate_scale/run.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build-bench}
if [ ! -x "$build/reconcile" ]; then
  tests/install-deps.sh
  cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DRECONCILE_TESTS=OFF -DRECONCILE_BENCH=OFF >/dev/null
  cmake --build "$build" -j1 --target reconcile >/dev/null
fi
work=$(mktemp -d /tmp/reconcile-validate-bench-XXXXXX)
trap 'rm -rf "$work"' EXIT
printf '%8s %9s %9s %8s\n' stages seconds rss_MiB growth
declare -A secs
for n in 10000 40000 100000; do
  python3 - "$n" >"$work/spec.toml" <<'PY'
import sys
n = int(sys.argv[1])
print('version = 1\nname = "big"\nstages = [' + ", ".join('"s%d"' % i for i in range(n)) + ']')
for i in range(n):
    print('[file.f%d]\nstage = "s%d"\nhost = "local"\npath = "/tmp/x/f%d"\ncontent = "x"' % (i, i, i))
    if i + 1 < n:
        print('[file.f%d.at.s%d]\ncontent = "y"' % (i, i + 1))
PY
  /usr/bin/time -f '%e %M' -o "$work/time" "$build/reconcile" validate "$work/spec.toml" >/dev/null
  read -r s kb <"$work/time"
  secs[$n]=$s
  printf '%8s %9s %9s %7.1fx\n' "$n" "$s" "$((kb / 1024))" "$(echo "${secs[$n]} / (${secs[10000]} + 0.001)" | bc -l)"
done
