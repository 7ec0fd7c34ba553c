#!/usr/bin/env bash
# Builds the spec fuzzer (clang++, libFuzzer, ASan + UBSan, toml++ compiled in) in its own
# build folder and runs it for SECONDS over a corpus seeded from specs/ and examples/.
# Fails loudly, with the crashing input kept, on any crash, sanitizer report or leak.
# CI runs 60 s; run longer by hand. Usage: tests/fuzz/run.sh [SECONDS] [BUILD_DIR]
set -euo pipefail
seconds=${1:-60}
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${2:-$src/build-fuzz}
corpus=$build/fuzz-corpus      # grows from run to run; the seeds are copied in each time
artifacts=$build/fuzz-crashes  # crash-*, leak-*, timeout-* inputs land here

CXX=${CXX:-clang++} cmake -S "$src" -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=-O1 \
  -DRECONCILE_FUZZ=ON -DRECONCILE_TESTS=OFF -DRECONCILE_BENCH=OFF >/dev/null
# -j1 unless FUZZ_JOBS says (tests/run.sh in CI): the machines that run this by hand are shared.
cmake --build "$build" -j"${FUZZ_JOBS:-1}" --target spec_fuzz

mkdir -p "$corpus" "$artifacts"
for f in "$src"/specs/*.toml "$src"/examples/*.toml "$src"/tests/fuzz/seeds/*.toml; do
  [ -f "$f" ] && cp "$f" "$corpus/seed-$(basename "$f")"
done

rc=0
"$build/spec_fuzz" "$corpus" -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$artifacts/" -print_final_stats=1 || rc=$?
if [ "$rc" -ne 0 ]; then
  echo "FUZZ FAILURE (exit $rc): the input is in $artifacts:" >&2
  ls -l "$artifacts" >&2
  echo "reproduce with: $build/spec_fuzz $artifacts/FILE" >&2
  exit 1
fi
echo "fuzz: no crash in $seconds s"
