# Shared by the benchmark scripts: a Release build of reconcile in build-bench/, a work folder,
# and the lab — the one LAB_ENV names, or one of its own started with COMPONENT and stopped at
# exit. Sets bin, work and LAB_ENV, and sources the lab's env.
# RECONCILE_BENCH_BUILD=DIR times the reconcile already built in DIR instead (say, an -O2
# RelWithDebInfo build), so a benchmark does not wait for a second full build.
# Usage: . bench/lib.sh NAME [COMPONENT]   (from the source root; no COMPONENT: no lab)
tests/install-deps.sh
if [ -n "${RECONCILE_BENCH_BUILD:-}" ]; then
  bin=$(cd "$RECONCILE_BENCH_BUILD" && pwd)/reconcile
  [ -x "$bin" ] || { echo "bench: no reconcile built in $RECONCILE_BENCH_BUILD" >&2; exit 1; }
  echo "bench: timing $bin ($(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "$RECONCILE_BENCH_BUILD/CMakeCache.txt" 2>/dev/null))" >&2
else
  cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DRECONCILE_TESTS=OFF -DRECONCILE_BENCH=ON >/dev/null
  cmake --build build-bench -j2 --target reconcile >/dev/null
  bin=$PWD/build-bench/reconcile
fi
work=$(mktemp -d "/tmp/reconcile-$1-bench-XXXXXX")
if [ -z "${2:-}" ]; then
  trap 'rm -rf "$work"' EXIT
  return 0
elif [ -n "${LAB_ENV:-}" ]; then
  trap 'rm -rf "$work"' EXIT
else
  bench_lab=$PWD/build-bench/lab-$1
  trap 'tests/lab/lab.sh down "$bench_lab"; rm -rf "$work"' EXIT
  tests/lab/lab.sh up "$bench_lab" "$2"
  LAB_ENV=$bench_lab/lab.env
fi
. "$LAB_ENV"
