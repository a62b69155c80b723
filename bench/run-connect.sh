#!/bin/sh
# Builds tcpwave in Release and prints what connect() costs with 0/50/90/99 %
# of the ephemeral port range toward its destination held by TIME_WAIT,
# beside the Linux kernel measured in the same run on loopback inside a
# private network namespace (1000-port ip_local_port_range, tcp_tw_reuse=0;
# both are per-netns sysctls). Needs root (ip netns). The table it prints is
# the one in BENCHMARKS.md, "connect() with the port range held by TIME_WAIT".
#
#   bench/run-connect.sh [--runs 5] [--connects 2000] [--sockets 1000]
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=${TCPW_BENCH_BUILD:-/tmp/tcpwave-bench-release}
gen=
if command -v ninja >/dev/null 2>&1; then gen="-G Ninja"; fi
# shellcheck disable=SC2086
cmake -S "$src" -B "$build" $gen -DCMAKE_BUILD_TYPE=Release -DTCPW_TESTS=OFF \
  -DTCPW_BENCH=ON >/dev/null
cmake --build "$build" --target bench_connect >/dev/null
bin="$build/bench/bench_connect"

ns="twbench$$"
kfile=$(mktemp)
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -f "$kfile"; }
trap cleanup EXIT INT TERM
# A fresh namespace per Linux run: TIME_WAIT sockets last 60 s, so none of
# an earlier run may be left in the range.
for pct in 0 50 90 99; do
  for run in $(seq "${TCPW_LINUX_RUNS:-5}"); do
    if ! ip netns add "$ns" 2>/dev/null; then
      echo "# no network namespace (not root?): Linux column left empty" >&2
      break 2
    fi
    ip netns exec "$ns" ip link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv4.ip_local_port_range="40000 40999"
    ip netns exec "$ns" sysctl -qw net.ipv4.tcp_tw_reuse=0
    ip netns exec "$ns" "$bin" --linux "$pct" --connects "${TCPW_LINUX_CONNECTS:-200}" \
      >>"$kfile" || echo "# Linux run at $pct % (run $run) failed" >&2
    ip netns del "$ns"
  done
done
echo "# $(uname -srm); $(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //'); $(date -u +%Y-%m-%d)"
"$bin" --kernel "$kfile" "$@"
