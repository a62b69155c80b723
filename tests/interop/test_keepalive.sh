#!/usr/bin/env bash
# TCP keepalive between tcpwave and the kernel, both directions:
#  a. The kernel probes tcpwave: a python3 client with SO_KEEPALIVE,
#     TCP_KEEPIDLE=1, TCP_KEEPINTVL=1, TCP_KEEPCNT=3 connects to
#     `tcpwave serve --echo` and stays idle 5 s. Unanswered, the kernel would
#     drop it after 1 + 3 s; it survives (an echo still works and the socket
#     has no error), `ss -tno` shows the keepalive timer, and tcpwave's
#     capture holds the kernel's probes and tcpwave's ACKs to them (tshark's
#     tcp.analysis.keep_alive / keep_alive_ack).
#  b. tcpwave detects a vanished kernel peer: `tcpwave connect --keepalive
#     1,1,3` sends one GET to a kernel server that never answers; once the
#     connection is up, an nftables rule in the namespace drops everything
#     from tcpwave's address. tcpwave's probes go unanswered and the
#     connection ends with reason keepalive-timeout (ETIMEDOUT,
#     TCPAbortOnTimeout=1) about 1 + 3 s after the last segment it received
#     (asserted: between 3 and 9 s after the peer vanished).
. "$(dirname "$0")/lib.sh"

# --- a. the kernel's probes are answered -----------------------------------
cat >"$WORK/ka_client.py" <<'PY'
import socket, time
s = socket.create_connection(("10.88.0.2", 7), timeout=5)
s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)
s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
s.sendall(b"before")
assert s.recv(100) == b"before"
print("connected; idle", flush=True)
time.sleep(5.5)
err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
assert err == 0, "socket error %d after the idle time" % err
s.sendall(b"after")
assert s.recv(100) == b"after", "no echo after the idle time"
print("alive after 5.5 s idle", flush=True)
s.close()
PY
bg serve "$TW" serve --tun tw0 --addr 10.88.0.2/24 --port 7 --echo --max-conns 1 --control none \
  --stats-file "$WORK/serve.stats" $(pcap_opt serve)
srv=$BG_PID
wait_line serve "listening on 10.88.0.2:7"
bg ka_client python3 "$WORK/ka_client.py"
cli=$BG_PID
wait_line ka_client "connected; idle"
sleep 2.5
timer=$(in_ns ss -Htno state established "( dport = :7 )")
echo "# ss -tno: $timer"
echo "$timer" | grep -q "timer:(keepalive," || fail "no keepalive timer on the kernel's socket: $timer"
wait_exit "$cli" 10
[ "$EXIT_STATUS" = 0 ] || fail "the kernel client failed"
wait_exit "$srv" 10
[ "$EXIT_STATUS" = 0 ] || fail "tcpwave serve exited $EXIT_STATUS"
stat_is "$WORK/serve.stats" TcpOutRsts 0
stat_is "$WORK/serve.stats" TcpEstabResets 0
if command -v tshark >/dev/null 2>&1; then
  probes=$(tshark -r "$WORK/serve.pcap" -Y "tcp.analysis.keep_alive && ip.src == 10.88.0.1" 2>/dev/null | grep -c .)
  acks=$(tshark -r "$WORK/serve.pcap" -Y "tcp.analysis.keep_alive_ack && ip.src == 10.88.0.2" 2>/dev/null | grep -c .)
  echo "# tshark: $probes keepalive probe(s) from the kernel, $acks ACK(s) from tcpwave"
  [ "$probes" -ge 3 ] || fail "expected >= 3 keepalive probes in 5.5 s idle, got $probes"
  [ "$acks" = "$probes" ] || fail "tcpwave answered $acks of $probes probes"
fi
ok "kernel keepalive (1/1/3) against tcpwave: probes answered, connection alive after 5.5 s idle"

# --- b. tcpwave's keepalive finds a vanished kernel peer --------------------
cat >"$WORK/silent.py" <<'PY'
import socket, time
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", 9200))
ls.listen(4)
ls.settimeout(10)
print("ready", flush=True)
c, peer = ls.accept()
got = b""
while b"\r\n\r\n" not in got:
    got += c.recv(4096)
print("got the request; not answering", flush=True)
time.sleep(30)
PY
bg silent python3 "$WORK/silent.py"
wait_line silent ready
bg connect "$TW" connect --tun tw0 --addr 10.88.0.2/24 --to 10.88.0.1:9200 --requests 1 \
  --keep-alive --keepalive 1,1,3 --timeout 20 --control none \
  --stats-file "$WORK/connect.stats" $(pcap_opt connect)
con=$BG_PID
wait_line silent "got the request"
# The peer vanishes: nothing from tcpwave's address reaches the kernel's TCP.
in_ns nft -f - <<'NFT' || fail "nft could not add the drop rule"
table inet twka {
  chain input {
    type filter hook input priority 0; policy accept;
    ip saddr 10.88.0.2 counter drop
  }
}
NFT
t0=$(date +%s.%N)
wait_exit "$con" 15
t1=$(date +%s.%N)
took=$(awk "BEGIN {printf \"%.1f\", $t1 - $t0}")
cat "$WORK/connect.log"
echo "# tcpwave gave up $took s after the peer vanished; nft: $(in_ns nft list chain inet twka input | grep -o 'packets [0-9]*')"
[ "$EXIT_STATUS" != 0 ] || fail "tcpwave connect exited 0 although its peer vanished"
grep -qi "timed out (reason keepalive-timeout)" "$WORK/connect.log" ||
  fail "tcpwave did not report a keepalive timeout"
stat_is "$WORK/connect.stats" TcpExtTCPAbortOnTimeout 1
awk "BEGIN {exit !($took >= 3 && $took <= 9)}" || fail "keepalive timeout after $took s, expected about 4"
ok "tcpwave keepalive (1/1/3): vanished peer detected after $took s, reason keepalive-timeout"
