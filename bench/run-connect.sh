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
. "$(dirname "$0")/lib.sh"
bench_build bench_connect

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
bench_machine
"$bin" --kernel "$kfile" "$@"
