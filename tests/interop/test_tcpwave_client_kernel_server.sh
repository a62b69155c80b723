#!/usr/bin/env bash
# `tcpwave connect` against servers of the Linux kernel (python3 sockets):
#  1. --send 300 KiB, --close normal: the kernel receives the bytes intact;
#     tcpwave closed first, so tcpwave holds the TIME_WAIT, the kernel none.
#  2. --send to an echo server, --close shutdown, --out: intact both ways;
#     tcpwave's FIN went first: TIME_WAIT in tcpwave, none in the kernel.
#  3. --requests 3 to an HTTP server that closes first (Connection: close):
#     three responses; the kernel holds three TIME_WAITs, tcpwave none.
#  4. --close linger0 (keep-alive request, then SO_LINGER 0 + close): one
#     RST (TCPAbortOnLinger=1), the kernel server sees ECONNRESET, and no
#     socket or TIME_WAIT is left on either side.
. "$(dirname "$0")/lib.sh"

head -c 307200 /dev/urandom >"$WORK/data"
cat >"$WORK/server.py" <<'PY'
import hashlib, socket, sys
# server.py PORT sink|echo|http CONNECTIONS: serves that many connections.
port, mode, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", port))  # the TUN device (10.88.0.1) comes up later
ls.listen(16)
ls.settimeout(10)
print("ready", flush=True)
for i in range(n):
    c, peer = ls.accept()
    c.settimeout(10)
    got = bytearray()
    try:
        if mode == "http":
            while True:
                while b"\r\n\r\n" not in got:
                    b = c.recv(4096)
                    if not b:
                        raise EOFError
                    got += b
                req, _, got = bytes(got).partition(b"\r\n\r\n")
                got = bytearray(got)
                close = b"connection: close" in req.lower()
                body = b"hello from the kernel\n"
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: %s\r\n\r\n%s"
                          % (len(body), b"close" if close else b"keep-alive", body))
                if close:
                    break  # the kernel closes first
        else:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                got += b
                if mode == "echo":
                    c.sendall(b)
            print("conn", i, "from port", peer[1], "received", len(got),
                  "sha256", hashlib.sha256(got).hexdigest(), flush=True)
    except EOFError:
        print("conn", i, "from port", peer[1], "EOF", flush=True)
    except ConnectionResetError:
        print("conn", i, "from port", peer[1], "RESET", flush=True)
    c.close()
print("done", flush=True)
PY
want=$(sha256sum "$WORK/data" | cut -d' ' -f1)
client() { # name, args...: runs tcpwave connect in the namespace
  local name=$1
  shift
  in_ns "$TW" connect $(pcap_opt "$name") --tun tw0 --addr 10.88.0.2/24 --stats-file "$WORK/$name.stats" "$@" \
    >"$WORK/$name.log" 2>&1 || fail "tcpwave connect ($name) exited $?"
  cat "$WORK/$name.log"
}

# --- 1. send, close normal: tcpwave closes first ---------------------------
bg server1 python3 "$WORK/server.py" 9001 sink 1
srv=$BG_PID
wait_line server1 ready
client send --to 10.88.0.1:9001 --send "$WORK/data" --close normal
wait_exit "$srv" 10
grep -q "received 307200 sha256 $want" "$WORK/server1.log" || fail "kernel received other bytes"
stat_is "$WORK/send.stats" TIME_WAIT 1
stat_is "$WORK/send.stats" TcpActiveOpens 1
stat_is "$WORK/send.stats" TcpOutRsts 0
[ "$(kernel_socks 'sport = :9001')" = 0 ] || fail "kernel still has a socket on 9001: $(in_ns ss -tan)"
ok "send 300 KiB intact; tcpwave closed first: TIME_WAIT in tcpwave, no socket left in the kernel"

# --- 2. echo, close shutdown -----------------------------------------------
bg server2 python3 "$WORK/server.py" 9002 echo 1
srv=$BG_PID
wait_line server2 ready
client echo --to 10.88.0.1:9002 --send "$WORK/data" --out "$WORK/back" --close shutdown
wait_exit "$srv" 10
grep -q "received 307200 sha256 $want" "$WORK/server2.log" || fail "kernel received other bytes"
[ "$(sha256sum "$WORK/back" | cut -d' ' -f1)" = "$want" ] || fail "the echo tcpwave read differs"
stat_is "$WORK/echo.stats" TIME_WAIT 1
stat_is "$WORK/echo.stats" TcpOutRsts 0
[ "$(kernel_tw 'sport = :9002')" = 0 ] || fail "kernel has a TIME_WAIT on 9002"
ok "echo intact both ways after shutdown(SHUT_WR); TIME_WAIT in tcpwave only"

# --- 3. HTTP, the kernel closes first --------------------------------------
bg server3 python3 "$WORK/server.py" 9003 http 3
srv=$BG_PID
wait_line server3 ready
client http --to 10.88.0.1:9003 --requests 3
wait_exit "$srv" 10
[ "$(grep -c 'HTTP/1.1 200 OK; closed' "$WORK/http.log")" = 3 ] || fail "three 200 responses expected"
stat_is "$WORK/http.stats" TIME_WAIT 0
stat_is "$WORK/http.stats" TcpActiveOpens 3
stat_is "$WORK/http.stats" TcpOutRsts 0
[ "$(kernel_tw 'sport = :9003')" = 3 ] || fail "kernel should hold 3 TIME_WAITs: $(in_ns ss -tan)"
ok "3 requests, the kernel closed first each time: 3 TIME_WAITs in the kernel, none in tcpwave"

# --- 4. linger0 --------------------------------------------------------------
bg server4 python3 "$WORK/server.py" 9004 http 1
srv=$BG_PID
wait_line server4 ready
client linger --to 10.88.0.1:9004 --requests 1 --keep-alive --close linger0
wait_exit "$srv" 10
stat_is "$WORK/linger.stats" TcpExtTCPAbortOnLinger 1
stat_is "$WORK/linger.stats" TcpOutRsts 1
stat_is "$WORK/linger.stats" TIME_WAIT 0
grep -q "RESET" "$WORK/server4.log" || fail "the kernel server did not see a reset"
[ "$(kernel_socks 'sport = :9004')" = 0 ] || fail "kernel still has a socket on 9004: $(in_ns ss -tan)"
ok "linger0: RST; the kernel saw ECONNRESET; no TIME_WAIT on either side"
