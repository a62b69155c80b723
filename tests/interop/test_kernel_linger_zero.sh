#!/usr/bin/env bash
# The kernel aborts with SO_LINGER {1, 0}: a kernel client sends a request to
# `tcpwave serve --echo`, reads the echo, then sets SO_LINGER {1, 0} and
# closes. Linux's close() then sends RST instead of FIN (tcp_disconnect()).
# Checks: tcpwave sees the reset (TcpEstabResets=1, no RST of its own), no
# TIME_WAIT on either side, tcpwave's connection is gone; the capture holds
# exactly one RST, from the kernel, and no FIN from it.
. "$(dirname "$0")/lib.sh"

cat >"$WORK/client.py" <<'PY'
import socket, struct, sys
s = socket.create_connection(("10.88.0.2", 7), timeout=10)
print("local_port", s.getsockname()[1], flush=True)
s.sendall(b"abort me")
got = b""
while len(got) < 8:
    b = s.recv(64)
    if not b:
        sys.exit("echo ended early")
    got += b
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
print("echo", got.decode())
PY

bg serve "$TW" serve $(pcap_opt serve) --tun tw0 --addr 10.88.0.2/24 --port 7 --echo --max-conns 1 \
  --stats-file "$WORK/serve.stats"
srv=$BG_PID
wait_line serve "listening on 10.88.0.2:7"
in_ns python3 "$WORK/client.py" >"$WORK/client.log" 2>&1 || fail "client: $(cat "$WORK/client.log")"
grep -qx "echo abort me" "$WORK/client.log" || fail "the echo"
wait_exit "$srv" 10
[ "$EXIT_STATUS" = 0 ] || fail "tcpwave serve exited $EXIT_STATUS"
stat_is "$WORK/serve.stats" TcpEstabResets 1
for c in TcpOutRsts TIME_WAIT LAST_ACK CLOSE_WAIT ESTABLISHED; do
  stat_is "$WORK/serve.stats" "$c" 0
done
lport=$(awk '/^local_port/ {print $2}' "$WORK/client.log")
[ "$(kernel_tw "dport = :7 and sport = :$lport")" = 0 ] ||
  fail "the kernel holds a TIME_WAIT after an abort: $(in_ns ss -tan)"
if command -v tshark >/dev/null 2>&1; then
  rsts=$(tshark -r "$WORK/serve.pcap" -Y "tcp.flags.reset == 1 && ip.src == 10.88.0.1" 2>/dev/null | wc -l)
  fins=$(tshark -r "$WORK/serve.pcap" -Y "tcp.flags.fin == 1 && ip.src == 10.88.0.1" 2>/dev/null | wc -l)
  [ "$rsts" = 1 ] || fail "expected one RST from the kernel, saw $rsts"
  [ "$fins" = 0 ] || fail "the kernel sent a FIN ($fins) instead of only a RST"
fi
ok "the kernel's SO_LINGER 0 close reset the connection: tcpwave saw ECONNRESET, no TIME_WAIT anywhere"
