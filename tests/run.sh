#!/usr/bin/env bash
# Builds reconcile and runs every test (ctest). With --sanitize, also builds with
# AddressSanitizer and UndefinedBehaviorSanitizer in build-asan/ and runs the tests there, then
# fuzzes the spec loader for a minute (tests/fuzz/run.sh). The long crash trials on the lab
# (crash_lab_test) run in the first build only.
set -euo pipefail
cd "$(dirname "$0")/.."
tests/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRECONCILE_TESTS=ON -DRECONCILE_BENCH=ON -DRECONCILE_WERROR=ON >/dev/null
cmake --build build -j2
ctest --test-dir build --output-on-failure
if [ "${1:-}" = "--sanitize" ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DRECONCILE_SANITIZE=ON -DRECONCILE_BENCH=OFF -DRECONCILE_WERROR=ON >/dev/null
  cmake --build build-asan -j2
  ctest --test-dir build-asan --output-on-failure
  # The spec loader under libFuzzer for a bounded minute (longer by hand: tests/fuzz/run.sh 3600).
  FUZZ_JOBS=2 tests/fuzz/run.sh 60
fi
