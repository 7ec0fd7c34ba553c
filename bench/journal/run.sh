#!/usr/bin/env bash
# Builds and runs the journal benchmark on the repository's disk (not /tmp, which may be
# memory, where fsync costs nothing). Usage: bench/journal/run.sh [STEPS]
set -euo pipefail
cd "$(dirname "$0")/../.."
tests/install-deps.sh
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DRECONCILE_TESTS=OFF -DRECONCILE_BENCH=ON >/dev/null
cmake --build build-bench -j2 --target journal_bench >/dev/null
build-bench/journal_bench "${1:-500}" build-bench/journal-tmp
