#!/usr/bin/env bash
# Builds reconcile and runs every test (ctest). With --sanitize, also builds with
# AddressSanitizer and UndefinedBehaviorSanitizer in build-asan/ and runs the tests there.
set -euo pipefail
cd "$(dirname "$0")/.."
tests/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRECONCILE_TESTS=ON -DRECONCILE_BENCH=ON >/dev/null
cmake --build build -j2
ctest --test-dir build --output-on-failure
if [ "${1:-}" = "--sanitize" ]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DRECONCILE_SANITIZE=ON -DRECONCILE_BENCH=OFF >/dev/null
  cmake --build build-asan -j2
  ctest --test-dir build-asan --output-on-failure
fi
