#!/usr/bin/env bash
# A kernel client sends 1 MiB of random bytes to `tcpwave serve --echo`
# while reading the echo (two threads, so neither side's window can stall
# the other), half-closes, and reads to the end. Checks: the echo has the
# same length and sha256; tcpwave answered the client's FIN with its own
# after the last byte (clean close: no resets, no aborts); the client, which
# closed first, holds the TIME_WAIT in the kernel and tcpwave holds none.
. "$(dirname "$0")/lib.sh"

head -c 1048576 /dev/urandom >"$WORK/data"
cat >"$WORK/client.py" <<'PY'
import hashlib, socket, sys, threading
data = open(sys.argv[1], "rb").read()
s = socket.create_connection(("10.88.0.2", 7), timeout=10)
print("local_port", s.getsockname()[1], flush=True)
def writer():
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
t = threading.Thread(target=writer)
t.start()
got = bytearray()
while True:
    b = s.recv(65536)
    if not b:
        break
    got += b
t.join()
s.close()
print("sent", len(data), "received", len(got))
print("sha256 sent", hashlib.sha256(data).hexdigest())
print("sha256 back", hashlib.sha256(got).hexdigest())
sys.exit(0 if got == data else "the echo differs")
PY

bg serve "$TW" serve $(pcap_opt serve) --tun tw0 --addr 10.88.0.2/24 --port 7 --echo --max-conns 1 \
  --stats-file "$WORK/serve.stats"
srv=$BG_PID
wait_line serve "listening on 10.88.0.2:7"
start=$(date +%s.%N)
in_ns python3 "$WORK/client.py" "$WORK/data" >"$WORK/client.log" 2>&1 || fail "client"
end=$(date +%s.%N)
cat "$WORK/client.log"
ok "1 MiB echoed intact in $(python3 -c "print(round($end - $start, 3))") s"
wait_exit "$srv" 10
[ "$EXIT_STATUS" = 0 ] || fail "tcpwave serve exited $EXIT_STATUS"
grep -q "1048576 bytes in, 1048576 bytes out" "$WORK/serve.log" || fail "tcpwave's byte counts"
for c in TcpOutRsts TcpEstabResets TcpExtTCPAbortOnClose TcpExtTCPAbortOnData TIME_WAIT LAST_ACK; do
  stat_is "$WORK/serve.stats" "$c" 0
done
stat_is "$WORK/serve.stats" TcpPassiveOpens 1
lport=$(awk '/^local_port/ {print $2}' "$WORK/client.log")
[ "$(kernel_tw "dport = :7 and sport = :$lport")" = 1 ] ||
  fail "kernel has no TIME_WAIT for $lport -> 7: $(in_ns ss -tan)"
ok "clean close: the client's FIN first (TIME_WAIT in the kernel), tcpwave's FIN after the data, no RST"
grep '^states:\|^counters:' "$WORK/serve.log"
