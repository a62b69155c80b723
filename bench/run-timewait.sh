#!/bin/sh
# Builds tcpwave in Release and prints what a TIME_WAIT record costs, beside
# the Linux kernel's tw_sock_TCP from /proc/slabinfo (run as root to get it).
# The table it prints is the one in BENCHMARKS.md, "TIME_WAIT records".
#
#   bench/run-timewait.sh [--records 1000000,10000000] [--runs 5]
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${TCPW_BENCH_BUILD:-/tmp/tcpwave-bench-release}
gen=
if command -v ninja >/dev/null 2>&1; then gen="-G Ninja"; fi
# shellcheck disable=SC2086
cmake -S "$src" -B "$build" $gen -DCMAKE_BUILD_TYPE=Release -DTCPW_TESTS=OFF \
  -DTCPW_BENCH=ON >/dev/null
cmake --build "$build" --target bench_timewait >/dev/null
echo "# $(uname -srm); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); $(date -u +%Y-%m-%d)"
exec "$build/bench/bench_timewait" "$@"
