#!/usr/bin/env bash
# Simultaneous close between tcpwave and the kernel: both FINs cross on the
# wire, so each side goes FIN_WAIT_1 -> CLOSING -> TIME_WAIT (RFC 9293
# §3.6, case 2) and BOTH end in TIME_WAIT, with no RST.
#
# How the FINs are made to cross, deterministically rather than by luck:
# `tcpwave connect --delay D` holds every packet D ms on the link, both ways.
# tcpwave sends one keep-alive GET to a python3 kernel server and closes as
# soon as the body is in (--keep-alive: the client closes first). The kernel
# server sends the response at T, then sleeps D and closes: its FIN leaves at
# T + D. The response reaches tcpwave at T + D, whose FIN leaves then too, so
# each FIN is on the wire for D ms while the other side is already in
# FIN_WAIT_1. The window is +-D, far above scheduling noise; if a run still
# misses it (a very loaded machine), it is retried with a larger D, up to
# three times, and the test says which attempt crossed.
#
# Checks: tcpwave's --stats-file TIME_WAIT=1 and TcpOutRsts=0; in tcpwave's
# capture (tshark) two FINs, neither acknowledging the other's; the kernel
# holds a TIME_WAIT for the same 4-tuple (ss) and sent no RST (its own
# /proc/net/snmp in the namespace).
. "$(dirname "$0")/lib.sh"

cat >"$WORK/server.py" <<'PY'
import socket, sys, time
# server.py PORT DELAY_S: one connection; answers one GET (keep-alive), waits
# DELAY_S, closes.
port, delay = int(sys.argv[1]), float(sys.argv[2])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", port))
ls.listen(4)
ls.settimeout(10)
print("ready", flush=True)
c, peer = ls.accept()
c.settimeout(10)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
got = b""
while b"\r\n\r\n" not in got:
    b = c.recv(4096)
    if not b:
        sys.exit("EOF before the request")
    got += b
body = b"hello from the kernel\n"
c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: keep-alive\r\n\r\n%s"
          % (len(body), body))
time.sleep(delay)
c.close()          # our FIN, while tcpwave's is on its way
print("closed; peer port", peer[1], flush=True)
time.sleep(3 * delay + 0.5)   # let the crossing finish before the process goes
PY

# The kernel's OutRsts counter in the namespace (column found by name).
kernel_rsts() {
  in_ns awk '/^Tcp:/ { if (!c) { for (i = 1; i <= NF; i++) if ($i == "OutRsts") c = i; next } print $c }' /proc/net/snmp
}
[ -n "$(kernel_rsts)" ] || fail "no OutRsts in /proc/net/snmp"

crossed=0
attempt=0
for delay_ms in 100 200 400; do
  attempt=$((attempt + 1))
  port=$((9100 + attempt))
  rst0=$(kernel_rsts)
  bg "server$attempt" python3 "$WORK/server.py" "$port" "$(awk "BEGIN {print $delay_ms / 1000}")"
  srv=$BG_PID
  wait_line "server$attempt" ready
  in_ns "$TW" connect --tun tw0 --addr 10.88.0.2/24 --to "10.88.0.1:$port" --requests 1 \
    --keep-alive --delay "$delay_ms" --control none --stats-file "$WORK/client$attempt.stats" \
    $(pcap_opt "client$attempt") >"$WORK/client$attempt.log" 2>&1 ||
    fail "tcpwave connect (attempt $attempt) exited $?"
  wait_exit "$srv" 10
  [ "$EXIT_STATUS" = 0 ] || fail "kernel server (attempt $attempt) exited $EXIT_STATUS"
  cat "$WORK/client$attempt.log"
  lport=$(awk '/^closed; peer port/ {print $4}' "$WORK/server$attempt.log")
  ktw=$(kernel_tw "sport = :$port and dport = :$lport")
  st=$WORK/client$attempt.stats
  stat_is "$st" TcpOutRsts 0
  [ "$(kernel_rsts)" = "$rst0" ] || fail "the kernel sent a RST (OutRsts $rst0 -> $(kernel_rsts))"
  if grep -qx "TIME_WAIT=1" "$st" && [ "$ktw" = 1 ]; then
    crossed=1
    break
  fi
  echo "# attempt $attempt (delay $delay_ms ms): FINs did not cross (tcpwave $(grep ^TIME_WAIT= "$st"), kernel TIME_WAIT $ktw); retrying"
done
[ "$crossed" = 1 ] || fail "no simultaneous close in $attempt attempts: $(in_ns ss -tan)"
echo "# attempt $attempt (delay $delay_ms ms): both ends in TIME_WAIT"
# On the wire (tcpwave's capture): two FINs, and neither acknowledges the
# other's, so each was sent before the other arrived.
if command -v tshark >/dev/null 2>&1; then
  fins=$(tshark -r "$WORK/client$attempt.pcap" -Y "tcp.flags.fin == 1" \
    -T fields -e ip.src -e tcp.seq -e tcp.ack 2>/dev/null)
  echo "$fins" | sed 's/^/# FIN /'
  [ "$(echo "$fins" | grep -c .)" = 2 ] || fail "expected two FINs, got: $fins"
  echo "$fins" | awk 'NR == 1 {s1 = $2; a1 = $3} NR == 2 {s2 = $2; a2 = $3}
    END {exit !(a1 <= s2 && a2 <= s1)}' || fail "the FINs did not cross: $fins"
  ok "tshark: both FINs were sent before either was acknowledged"
else
  echo "# tshark not installed: the wire check is left out"
fi
in_ns ss -tan state time-wait
ok "both tcpwave (--stats-file TIME_WAIT=1) and the kernel (ss: TIME_WAIT for :$lport) hold a TIME_WAIT"
ok "no RST from either side"
