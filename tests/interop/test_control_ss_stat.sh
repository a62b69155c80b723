#!/usr/bin/env bash
# `tcpwave ss` and `tcpwave stat` against a running `tcpwave serve` through
# its control socket (the default one, /run/tcpwave/<tun>.sock):
#  1. three kernel clients ask with `Connection: close`: tcpwave closes first
#     and holds three TIME_WAIT records; `tcpwave ss` lists the listener and
#     the three records with ss -o's timer:(timewait,...) between 1 and 60 s,
#     and a summary with the TIME_WAIT table's memory.
#  2. `tcpwave stat` shows TcpPassiveOpens 3 (non-zero counters only), and
#     `stat -a` the zero ones too.
#  3. a bad request is refused; at exit the socket file is removed.
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
