#!/usr/bin/env bash
# `tcpwave ss` and `tcpwave stat` against a running `tcpwave serve` through
# its control socket (the default one, /run/tcpwave/<tun>.sock):
#  1. three kernel clients ask with `Connection: close`: tcpwave closes first
#     and holds three TIME_WAIT records; `tcpwave ss` lists the listener and
#     the three records with ss -o's timer:(timewait,...) between 1 and 60 s,
#     and a summary with the TIME_WAIT table's memory.
#  2. `tcpwave stat` shows TcpPassiveOpens 3 (non-zero counters only), and
#     `stat -a` the zero ones too.
#     `tcpwave ss --ports` lists no destination: the records hold port 80,
#     which is not an ephemeral port.
#  3. a bad request is refused; at exit the socket file is removed.
#  4. `tcpwave connect` with a 3-port ip_local_port_range makes 3 keep-alive
#     requests to a kernel server that answers two (tcpwave closes first:
#     two TIME_WAIT records) and holds the third (one live connection):
#     `tcpwave ss --ports` shows the one destination with Conns 1,
#     TimeWait 2, Free 0, 100% and the "!" mark.
. "$(dirname "$0")/lib.sh"

# A TUN name of our own, so the default control path cannot be another
# run's (the TUN itself lives in the namespace; the socket file does not).
TUN="twc$$"
TUN=${TUN:0:15}
CTL="/run/tcpwave/$TUN.sock"

cat >"$WORK/client.py" <<'PY'
import socket, sys
# client.py N: N requests with Connection: close, one connection each.
for i in range(int(sys.argv[1])):
    s = socket.create_connection(("10.88.0.2", 80), timeout=5)
    s.sendall(b"GET / HTTP/1.1\r\nHost: 10.88.0.2\r\nConnection: close\r\n\r\n")
    buf = b""
    while True:
        b = s.recv(4096)
        if not b:
            break  # the server's FIN: it closed first
        buf += b
    assert buf.startswith(b"HTTP/1.1 200 OK"), buf
    s.close()
print("3 responses ok", flush=True)
PY

bg serve "$TW" serve $(pcap_opt serve) --tun "$TUN" --addr 10.88.0.2/24 --port 80 --http
srv=$BG_PID
wait_line serve "listening on 10.88.0.2:80"
grep -qF "control socket $CTL" "$WORK/serve.log" || fail "serve did not announce $CTL"
[ -S "$CTL" ] || fail "no socket at $CTL"
in_ns python3 "$WORK/client.py" 3 >"$WORK/client.log" 2>&1 || fail "client"

# --- 1. ss --------------------------------------------------------------
"$TW" ss --tun "$TUN" >"$WORK/ss.log" 2>&1 || fail "tcpwave ss failed"
cat "$WORK/ss.log"
head -1 "$WORK/ss.log" | grep -q '^State  *Recv-Q Send-Q  *Local Address:Port Peer Address:Port' ||
  fail "ss: no ss-style header"
grep -Eq '^LISTEN +0 +128 +10\.88\.0\.2:80 +0\.0\.0\.0:\*' "$WORK/ss.log" || fail "ss: no listener line"
[ "$(grep -Ec '^TIME-WAIT +0 +0 +10\.88\.0\.2:80 +10\.88\.0\.1:[0-9]+ +timer:\(timewait,' "$WORK/ss.log")" = 3 ] ||
  fail "ss: expected 3 TIME-WAIT lines"
python3 - "$WORK/ss.log" <<'PY' || fail "ss: a TIME-WAIT timer is not between 1 and 60 s"
import re, sys
def secs(t):  # ss's print_ms_timer: 1min, 59sec, 5.300ms, 250ms
    m = re.fullmatch(r"(?:(\d+)min)?(?:(\d+)(sec|\.))?(?:(\d+)ms)?", t)
    mins, s, _, ms = m.groups()
    return int(mins or 0) * 60 + int(s or 0) + int(ms or 0) / 1000
n = 0
for line in open(sys.argv[1]):
    m = re.search(r"timer:\(timewait,([^,]+),0\)", line)
    if m and line.startswith("TIME-WAIT"):
        v = secs(m.group(1))
        assert 1 <= v <= 60, (line, v)
        n += 1
assert n == 3, n
PY
grep -Eq '^Total: 4 \(LISTEN 1, TIME-WAIT 3\), orphans 0, TIME-WAIT records 3 using [1-9][0-9]* bytes$' \
  "$WORK/ss.log" || fail "ss: bad summary line"
ok "tcpwave ss: listener, 3 TIME-WAIT records with 1..60 s left, summary with the table's memory"

"$TW" ss --ports --tun "$TUN" >"$WORK/ports.log" 2>&1 || fail "tcpwave ss --ports failed"
cat "$WORK/ports.log"
[ "$(wc -l <"$WORK/ports.log")" = 2 ] || fail "ss --ports: expected a header and a total line"
head -1 "$WORK/ports.log" | grep -Eq '^Local Address +Peer Address:Port +Range +Conns +TimeWait +Listen +Free +Used%$' ||
  fail "ss --ports: bad header"
grep -qx 'Total: 0 destinations: no port of ip_local_port_range 32768-60999 (28232 ports) is held by a connection or a TIME-WAIT record' \
  "$WORK/ports.log" || fail "ss --ports: the server's port-80 records must hold no ephemeral port"
ok "tcpwave ss --ports: a server's TIME-WAIT records on port 80 hold no ephemeral port"

# --- 2. stat ------------------------------------------------------------
"$TW" stat --control "$CTL" >"$WORK/stat.log" 2>&1 || fail "tcpwave stat failed"
grep -Eq '^TcpPassiveOpens +3$' "$WORK/stat.log" || fail "stat: no 'TcpPassiveOpens 3'"
grep -Eq '^TcpExtTW +' "$WORK/stat.log" && fail "stat: a zero counter (TcpExtTW) without -a"
"$TW" stat -a --control "$CTL" >"$WORK/stat_all.log" 2>&1 || fail "tcpwave stat -a failed"
grep -Eq '^TcpExtTW +0$' "$WORK/stat_all.log" || fail "stat -a: no 'TcpExtTW 0'"
ok "tcpwave stat: TcpPassiveOpens 3; -a lists the zero counters too"

# --- 3. a bad request, and the socket file at exit -------------------------
answer=$(python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"frob\n")
print(s.makefile().read().strip())' "$CTL") || fail "raw control request"
case "$answer" in "ERR "*) ;; *) fail "bad request answered '$answer'" ;; esac
kill -INT "$srv"
wait_exit "$srv" 7
[ "$EXIT_STATUS" = 0 ] || fail "tcpwave serve exited $EXIT_STATUS"
[ -e "$CTL" ] && fail "$CTL left behind"
"$TW" ss --tun "$TUN" >/dev/null 2>&1 && fail "tcpwave ss succeeded with no server"
ok "a bad request gets ERR; the socket file is removed at exit"

# --- 4. ss --ports: a client's ports toward one destination run out --------
TUN2="twp$$"
TUN2=${TUN2:0:15}
CTL2="/run/tcpwave/$TUN2.sock"
cat >"$WORK/hold.py" <<'PY'
import socket, sys
# hold.py PORT: answers the requests of two keep-alive connections (the
# client closes each first), then accepts a third, reads its request and
# holds it unanswered until the client closes.
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", int(sys.argv[1])))  # the TUN device comes up later
ls.listen(4)
ls.settimeout(20)
print("ready", flush=True)
body = b"hello from the kernel\n"
for i in range(3):
    c, peer = ls.accept()
    c.settimeout(20)
    got = b""
    while b"\r\n\r\n" not in got:
        b = c.recv(4096)
        if not b:
            break
        got += b
    if i == 2:
        print("holding connection from port", peer[1], flush=True)
    else:
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: keep-alive\r\n\r\n%s"
                  % (len(body), body))
    while c.recv(4096):  # until the client's FIN
        pass
    c.close()
    print("conn", i, "closed", flush=True)
PY
bg hold python3 "$WORK/hold.py" 8080
hold=$BG_PID
wait_line hold ready
bg client "$TW" connect $(pcap_opt client) --tun "$TUN2" --addr 10.89.0.2/24 --to 10.89.0.1:8080 \
  --requests 3 --keep-alive --timeout 20 --set "ip_local_port_range=40000 40002"
cli=$BG_PID
wait_line client "control socket $CTL2"
wait_line hold "holding connection" 10
# The second record appears when the kernel's FIN reaches tcpwave; poll.
want='^10\.89\.0\.2 +10\.89\.0\.1:8080 +3 +1 +2 +0 +0 +100% !$'
for _ in $(seq 50); do
  "$TW" ss --ports --tun "$TUN2" >"$WORK/ports2.log" 2>&1 || fail "tcpwave ss --ports (client) failed"
  grep -Eq "$want" "$WORK/ports2.log" && break
  sleep 0.1
done
cat "$WORK/ports2.log"
grep -Eq "$want" "$WORK/ports2.log" ||
  fail "ss --ports: expected 10.89.0.2 -> 10.89.0.1:8080 with Range 3, Conns 1, TimeWait 2, Free 0, 100% !"
[ "$(wc -l <"$WORK/ports2.log")" = 3 ] || fail "ss --ports: expected a header, one destination and a total"
grep -qx 'Total: 1 destination, ip_local_port_range 40000-40002 (3 ports each), 1 with under 10% free (!)' \
  "$WORK/ports2.log" || fail "ss --ports: bad total line"
# The plain listing agrees: two records and one connection, all from the range.
"$TW" ss --tun "$TUN2" >"$WORK/ss2.log" 2>&1 || fail "tcpwave ss (client) failed"
cat "$WORK/ss2.log"
[ "$(grep -Ec '^TIME-WAIT +0 +0 +10\.89\.0\.2:4000[0-2] +10\.89\.0\.1:8080 ' "$WORK/ss2.log")" = 2 ] ||
  fail "ss: expected 2 TIME-WAIT lines from 40000..40002"
grep -Eq '^ESTAB +0 +0 +10\.89\.0\.2:4000[0-2] +10\.89\.0\.1:8080 ' "$WORK/ss2.log" ||
  fail "ss: expected the held connection, ESTAB from 40000..40002"
ok "tcpwave ss --ports: 1 connection + 2 TIME-WAIT records of a 3-port range, 0 free, marked !"

# Ctrl-C: the client closes the held connection and exits.
kill -INT "$cli"
wait_exit "$cli" 10
grep -q '2 connection(s) completed' "$WORK/client.log" || fail "the client did not complete 2 requests"
wait_exit "$hold" 10
[ -e "$CTL2" ] && fail "$CTL2 left behind"
ok "the client exits on Ctrl-C and removes its socket file"
