# shellcheck shell=sh
# Sourced by bench/run-*.sh: what every benchmark script does first and last.

# bench_build TARGET: builds that benchmark of this source tree in Release
# (in $TCPW_BENCH_BUILD, default /tmp/tcpwave-bench-release) and sets $bin.
bench_build() {
  src=$(cd "$(dirname "$0")/.." && pwd)
  build=${TCPW_BENCH_BUILD:-/tmp/tcpwave-bench-release}
  gen=
  if command -v ninja >/dev/null 2>&1; then gen="-G Ninja"; fi
  # shellcheck disable=SC2086
  cmake -S "$src" -B "$build" $gen -DCMAKE_BUILD_TYPE=Release -DTCPW_TESTS=OFF \
    -DTCPW_BENCH=ON >/dev/null
  cmake --build "$build" --target "$1" >/dev/null
  # shellcheck disable=SC2034 # used by the sourcing script
  bin="$build/bench/$1"
}

# The machine line above each table in BENCHMARKS.md.
bench_machine() {
  echo "# $(uname -srm); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); $(date -u +%Y-%m-%d)"
}
