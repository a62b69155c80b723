#!/usr/bin/env bash
# A kernel client against `tcpwave serve --http`, both close orders:
#  1. `Connection: close`: tcpwave answers 200 with the right Content-Length
#     and closes first, so TIME_WAIT is on tcpwave's side (its report shows
#     TIME_WAIT=1) and the kernel ends with no socket at all for the port
#     (no TIME_WAIT, no LAST_ACK left behind). No resets on either side.
#  2. keep-alive, two requests on one connection, then the client closes
#     first: the kernel holds the TIME_WAIT (ss), tcpwave none.
#  3. curl (when installed) gets the page, as a user would.
#  4. SIGINT with a keep-alive connection open: tcpwave sends its FIN at once,
#     finishes the close without retransmitting, exits 0 with TIME_WAIT=1.
#  5. --set tcp_msl=1: the TIME_WAIT ends after 2 s of real time (TcpExtTW=1).
. "$(dirname "$0")/lib.sh"

cat >"$WORK/client.py" <<'PY'
import socket, sys
# client.py PORT close|keepalive: prints the local port, then checks the answers.
port, mode = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("10.88.0.2", port), timeout=5)
print("local_port", s.getsockname()[1], flush=True)

def response():
    """Reads one response; returns (status line, headers, body)."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        b = s.recv(4096)
        if not b:
            sys.exit("EOF inside the response header: %r" % buf)
        buf += b
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    hdrs = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
    n = int(hdrs["content-length"])
    while len(body) < n:
        b = s.recv(4096)
        if not b:
            sys.exit("EOF inside the body")
        body += b
    if len(body) != n:
        sys.exit("body longer than Content-Length")
    return lines[0], hdrs, body

if mode == "close":
    s.sendall(b"GET / HTTP/1.1\r\nHost: 10.88.0.2\r\nConnection: close\r\n\r\n")
    st, h, body = response()
    assert st == "HTTP/1.1 200 OK", st
    assert h["connection"] == "close", h
    assert body.startswith(b"hello from tcpwave"), body
    # The server closes first: its FIN must come without our asking.
    assert s.recv(1) == b"", "expected the server's FIN"
    print("response ok:", st, len(body), "bytes, then the server's FIN", flush=True)
else:
    for i in (1, 2):
        s.sendall(b"GET /%d HTTP/1.1\r\nHost: 10.88.0.2\r\n\r\n" % i)
        st, h, body = response()
        assert st == "HTTP/1.1 200 OK", st
        assert h["connection"] == "keep-alive", h
        assert body == b"hello from tcpwave: request %d\n" % i, body
    print("two keep-alive responses ok; closing first", flush=True)
s.close()
PY

# --- 1. Connection: close -> tcpwave closes first -------------------------
bg serve1 "$TW" serve $(pcap_opt serve1) --tun tw0 --addr 10.88.0.2/24 --port 80 --http --max-conns 1 \
  --stats-file "$WORK/serve1.stats"
srv=$BG_PID
wait_line serve1 "listening on 10.88.0.2:80"
in_ns python3 "$WORK/client.py" 80 close >"$WORK/client1.log" 2>&1 || fail "client (Connection: close)"
wait_exit "$srv" 10
[ "$EXIT_STATUS" = 0 ] || fail "tcpwave serve exited $EXIT_STATUS"
cat "$WORK/client1.log"
stat_is "$WORK/serve1.stats" TIME_WAIT 1
stat_is "$WORK/serve1.stats" TcpPassiveOpens 1
stat_is "$WORK/serve1.stats" TcpOutRsts 0
stat_is "$WORK/serve1.stats" TcpExtTCPAbortOnClose 0
ok "Connection: close: 200 OK, tcpwave closed first and holds the TIME_WAIT"
[ "$(kernel_tw 'dport = :80')" = 0 ] || fail "kernel has a TIME_WAIT for port 80: $(in_ns ss -tan)"
[ "$(kernel_socks 'dport = :80')" = 0 ] || fail "kernel still has a socket for port 80: $(in_ns ss -tan)"
ok "the kernel client (second to close) ends with no socket and no TIME_WAIT"

# --- 2. keep-alive, client closes first -> the kernel holds TIME_WAIT -----
bg serve2 "$TW" serve $(pcap_opt serve2) --tun tw0 --addr 10.88.0.2/24 --port 81 --http --max-conns 1 \
  --stats-file "$WORK/serve2.stats"
srv=$BG_PID
wait_line serve2 "listening on 10.88.0.2:81"
in_ns python3 "$WORK/client.py" 81 keepalive >"$WORK/client2.log" 2>&1 || fail "client (keep-alive)"
wait_exit "$srv" 10
[ "$EXIT_STATUS" = 0 ] || fail "tcpwave serve exited $EXIT_STATUS"
cat "$WORK/client2.log"
lport=$(awk '/^local_port/ {print $2}' "$WORK/client2.log")
stat_is "$WORK/serve2.stats" TIME_WAIT 0
stat_is "$WORK/serve2.stats" LAST_ACK 0
stat_is "$WORK/serve2.stats" TcpOutRsts 0
grep -q "2 request(s)" "$WORK/serve2.log" || fail "tcpwave did not answer two requests on one connection"
[ "$(kernel_tw "dport = :81 and sport = :$lport")" = 1 ] ||
  fail "kernel has no TIME_WAIT for its port $lport -> 81: $(in_ns ss -tan)"
ok "keep-alive: two requests, client closed first: TIME_WAIT in the kernel, none in tcpwave"

# --- 3. curl, as in docs/real-network.md ---------------------------------
if command -v curl >/dev/null 2>&1; then
  bg serve3 "$TW" serve $(pcap_opt serve3) --tun tw0 --addr 10.88.0.2/24 --port 80 --http --max-conns 1
  srv=$BG_PID
  wait_line serve3 "listening on 10.88.0.2:80"
  body=$(in_ns curl -sS --max-time 5 http://10.88.0.2/) || fail "curl failed"
  [ "$body" = "hello from tcpwave: request 1" ] || fail "curl got '$body'"
  wait_exit "$srv" 10
  ok "curl http://10.88.0.2/ -> '$body'"
else
  echo "# curl not installed: step 3 left out"
fi

# --- 4. Ctrl-C: tcpwave closes the open connection gracefully, then exits --
cat >"$WORK/idle.py" <<'PY'
import socket, sys, time
s = socket.create_connection(("10.88.0.2", 80), timeout=5)
s.sendall(b"GET / HTTP/1.1\r\nHost: 10.88.0.2\r\n\r\n")
assert s.recv(4096).startswith(b"HTTP/1.1 200 OK")
print("connected; waiting", flush=True)
t = time.monotonic()
assert s.recv(1) == b"", "expected the server's FIN"   # sent when tcpwave gets SIGINT
print("FIN after %.2f s" % (time.monotonic() - t), flush=True)
s.close()
PY
bg serve4 "$TW" serve $(pcap_opt serve4) --tun tw0 --addr 10.88.0.2/24 --port 80 --http --stats-file "$WORK/serve4.stats"
srv=$BG_PID
wait_line serve4 "listening on 10.88.0.2:80"
bg idle python3 "$WORK/idle.py"
cli=$BG_PID
wait_line idle "connected; waiting"
kill -INT "$srv"
wait_exit "$cli" 5
[ "$EXIT_STATUS" = 0 ] || fail "the idle client did not get a clean FIN"
wait_exit "$srv" 7
[ "$EXIT_STATUS" = 0 ] || fail "tcpwave serve exited $EXIT_STATUS after SIGINT"
grep -q "signal: closing 1 connection(s)" "$WORK/serve4.log" || fail "no graceful close message"
stat_is "$WORK/serve4.stats" TIME_WAIT 1
stat_is "$WORK/serve4.stats" TcpOutRsts 0
# The FIN is sent when the signal arrives, so its RTO timer starts then: a
# stale clock would retransmit it as soon as the client's FIN comes in.
stat_is "$WORK/serve4.stats" TcpRetransSegs 0
ok "SIGINT: tcpwave sent FIN on the open connection, finished the close (no retransmission) and exited"

# --- 5. TIME_WAIT ends after 2MSL of real time ------------------------------
# tcp_msl=1: the TIME_WAIT lasts 2 s of CLOCK_MONOTONIC; the loop must wake
# for the timer with no packet arriving.
bg serve5 "$TW" serve $(pcap_opt serve5) --tun tw0 --addr 10.88.0.2/24 --port 80 --http --set tcp_msl=1 \
  --duration 3 --stats-file "$WORK/serve5.stats"
srv=$BG_PID
wait_line serve5 "listening on 10.88.0.2:80"
in_ns python3 "$WORK/client.py" 80 close >"$WORK/client5.log" 2>&1 || fail "client (2MSL)"
wait_exit "$srv" 6
[ "$EXIT_STATUS" = 0 ] || fail "tcpwave serve exited $EXIT_STATUS"
stat_is "$WORK/serve5.stats" TIME_WAIT 0
stat_is "$WORK/serve5.stats" TcpExtTW 1
ok "with tcp_msl=1 the TIME_WAIT ended after 2 s of real time (TcpExtTW=1)"
