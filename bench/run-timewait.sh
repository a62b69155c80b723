#!/bin/sh
# Builds tcpwave in Release and prints what a TIME_WAIT record costs, beside
# the Linux kernel's tw_sock_TCP from /proc/slabinfo (run as root to get it).
# The table it prints is the one in BENCHMARKS.md, "TIME_WAIT records".
#
#   bench/run-timewait.sh [--records 1000000,10000000] [--runs 5]
set -eu
. "$(dirname "$0")/lib.sh"
bench_build bench_timewait
bench_machine
exec "$bin" "$@"
