#!/usr/bin/env bash
# 10 MiB each way through an impaired link, byte-exact, closed cleanly.
# This kernel has no netem, so the impairment comes from two places:
#  - the kernel drops 3% of its packets to tcpwave (nftables, output hook of
#    the test's namespace: `numgen random mod 100 < 3 drop`);
#  - tcpwave's TUN link loses 3%, duplicates 1% and reorders 2% (held 5 ms)
#    of what it receives and of what it sends (--loss/--duplicate/--reorder,
#    --seed 1).
#  1. A kernel client sends 10 MiB to `tcpwave serve --echo` and reads the
#     echo: same sha256; the client closed first, so TIME_WAIT in the
#     kernel, none in tcpwave; no RST from either side.
#  2. `tcpwave connect --send` 10 MiB to a kernel sink (python3): same
#     sha256; tcpwave closed first, so TIME_WAIT in tcpwave; no RST.
# Both: nft really dropped packets and tcpwave's filter really lost,
# duplicated and reordered some.
. "$(dirname "$0")/lib.sh"

if ! command -v nft >/dev/null 2>&1; then
  if command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nftables \
      >/dev/null 2>&1
  fi
  command -v nft >/dev/null 2>&1 || skip "no \`nft\` (Debian package nftables) and cannot install it"
fi
in_ns nft add table inet twimp 2>/dev/null || skip "nftables not usable here (nf_tables module?)"
in_ns nft add chain inet twimp out '{ type filter hook output priority 0; }' ||
  fail "nft add chain"
in_ns nft add rule inet twimp out ip daddr 10.88.0.2 numgen random mod 100 '<' 3 counter drop ||
  fail "nft add rule"
# RFC 1337 in the kernel's namespace. With 1% duplication and 2% reordering a
# copy of one of the kernel's last segments can reach tcpwave after its
# connection is gone; tcpwave answers it with RST (RFC 9293 §3.10.7.1, as
# Linux does), and a kernel with its default tcp_rfc1337=0 lets that RST end
# its TIME_WAIT ("TIME-WAIT assassination", RFC 1337 §2) — seen in CI, about
# one run in ten. The test checks the close and the kernel's TIME_WAIT, not
# that hazard, so the kernel ignores RSTs in TIME_WAIT here, as tcpwave does
# by default.
in_ns sysctl -qw net.ipv4.tcp_rfc1337=1 || fail "sysctl net.ipv4.tcp_rfc1337"

# tcp_rto_min_ms=20: a lost last segment of a window costs an RTO, and with
# Linux's 200 ms floor on a 0.1 ms path the run would take minutes.
IMP=(--loss 0.03 --duplicate 0.01 --reorder 0.02 --seed 1 --set tcp_rto_min_ms=20)
SIZE=10485760
head -c $SIZE /dev/urandom >"$WORK/data"
want=$(sha256sum "$WORK/data" | cut -d' ' -f1)
kernel_rsts() { in_ns awk '/^Tcp:/ { if (h) print $15; else h = 1 }' /proc/net/snmp; }
# The connections must end without a reset or an abort. A stray RST may
# still go out afterwards: with 1% duplication a duplicated last ACK can
# arrive after its connection is gone, and RFC 9293 §3.10.7.1 (and Linux)
# answer it with RST; that is no failure of the close, so RSTs are bounded
# (at most 2 per side), not forbidden.
rsts_at_most() { # FILE MAX
  local n
  n=$(sed -n 's/^TcpOutRsts=//p' "$1")
  [ "${n:-0}" -le "$2" ] || fail "$1: TcpOutRsts=$n"
}
nft_dropped() { in_ns nft list chain inet twimp out | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'; }
now() { date +%s.%N; }
secs() { python3 -c "print(round($2 - $1, 2))"; }
# imp_nonzero STATS: tcpwave's filter lost, duplicated and reordered packets both ways.
imp_nonzero() {
  local d k v
  for d in to_stack from_stack; do
    for k in lost duplicated reordered; do
      v=$(sed -n "s/^tun\.$d\.$k=//p" "$1")
      [ "${v:-0}" -gt 0 ] || fail "$(basename "$1"): tun.$d.$k=${v:-none}, expected > 0"
    done
    v=$(sed -n "s/^tun\.$d\.overflow=//p" "$1")
    [ "$v" = 0 ] || fail "$(basename "$1"): tun.$d.overflow=$v"
  done
}
[ "$(kernel_rsts)" = 0 ] || fail "cannot read the kernel's OutRsts (got '$(kernel_rsts)')"

# --- 1. kernel -> tcpwave echo -> kernel ------------------------------------
cat >"$WORK/client.py" <<'PY'
import hashlib, socket, sys, threading
data = open(sys.argv[1], "rb").read()
s = socket.create_connection(("10.88.0.2", 7), timeout=20)
s.settimeout(None)  # sendall's timeout bounds the whole call; `timeout` bounds the run
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
print("sha256 back", hashlib.sha256(got).hexdigest())
sys.exit(0 if got == data else "the echo differs")
PY
bg serve "$TW" serve $(pcap_opt serve) --tun tw0 --addr 10.88.0.2/24 --port 7 --echo --max-conns 1 \
  --stats-file "$WORK/serve.stats" --control none "${IMP[@]}"
srv=$BG_PID
wait_line serve "listening on 10.88.0.2:7"
start=$(now)
timeout 90 ip netns exec "$NS" python3 "$WORK/client.py" "$WORK/data" >"$WORK/client.log" 2>&1 ||
  fail "client"
end=$(now)
cat "$WORK/client.log"
grep -qx "sha256 back $want" "$WORK/client.log" || fail "echo sha256"
wait_exit "$srv" 15
[ "$EXIT_STATUS" = 0 ] || fail "tcpwave serve exited $EXIT_STATUS"
grep -q "$SIZE bytes in, $SIZE bytes out" "$WORK/serve.log" || fail "tcpwave's byte counts"
for c in TcpEstabResets TcpExtTCPAbortOnClose TcpExtTCPAbortOnData \
  TcpExtTCPAbortOnTimeout TIME_WAIT LAST_ACK; do
  stat_is "$WORK/serve.stats" "$c" 0
done
rsts_at_most "$WORK/serve.stats" 2
imp_nonzero "$WORK/serve.stats"
lport=$(awk '/^local_port/ {print $2}' "$WORK/client.log")
[ "$(kernel_tw "dport = :7 and sport = :$lport")" = 1 ] ||
  fail "kernel has no TIME_WAIT for $lport -> 7: $(in_ns ss -tan)"
[ "$(kernel_rsts)" -le 2 ] || fail "the kernel sent $(kernel_rsts) RST(s)"
drops1=$(nft_dropped)
ok "10 MiB echoed intact in $(secs "$start" "$end") s; retransmitted $(sed -n 's/^TcpRetransSegs=//p' "$WORK/serve.stats") segments; nft dropped $drops1 kernel packets; clean close (kernel TIME_WAIT, no reset of the connection)"
grep -A2 '^impairment' "$WORK/serve.log"

# --- 2. tcpwave -> kernel sink ----------------------------------------------
cat >"$WORK/sink.py" <<'PY'
import hashlib, socket, sys
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", 9001))  # the TUN device (10.88.0.1) comes up later
ls.listen(1)
ls.settimeout(20)
print("ready", flush=True)
c, peer = ls.accept()
c.settimeout(30)
with open(sys.argv[1], "wb") as f:
    while True:
        b = c.recv(65536)
        if not b:
            break
        f.write(b)
c.close()
print("done from port", peer[1], flush=True)
PY
bg sink python3 "$WORK/sink.py" "$WORK/got"
sink=$BG_PID
wait_line sink ready
start=$(now)
in_ns "$TW" connect $(pcap_opt connect) --tun tw0 --addr 10.88.0.2/24 --to 10.88.0.1:9001 --send "$WORK/data" \
  --close normal --timeout 60 --control none --stats-file "$WORK/connect.stats" "${IMP[@]}" \
  >"$WORK/connect.log" 2>&1 || fail "tcpwave connect exited $?"
end=$(now)
wait_exit "$sink" 10
[ "$EXIT_STATUS" = 0 ] || fail "the kernel sink exited $EXIT_STATUS"
got=$(sha256sum "$WORK/got" | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "the kernel received $(stat -c %s "$WORK/got") bytes, sha256 $got"
grep -q "1 connection(s) completed, 0 failed; $SIZE bytes sent" "$WORK/connect.log" ||
  fail "tcpwave connect's summary"
for c in TcpEstabResets TcpExtTCPAbortOnClose TcpExtTCPAbortOnData \
  TcpExtTCPAbortOnTimeout TcpAttemptFails; do
  stat_is "$WORK/connect.stats" "$c" 0
done
rsts_at_most "$WORK/connect.stats" 2
stat_is "$WORK/connect.stats" TIME_WAIT 1
imp_nonzero "$WORK/connect.stats"
[ "$(kernel_rsts)" -le 4 ] || fail "the kernel sent $(kernel_rsts) RST(s)"
[ "$(kernel_tw "sport = :9001")" = 0 ] || fail "the kernel holds a TIME_WAIT: $(in_ns ss -tan)"
drops2=$(($(nft_dropped) - drops1))
[ "$drops1" -gt 0 ] && [ "$drops2" -gt 0 ] || fail "nft dropped nothing ($drops1, $drops2)"
ok "10 MiB sent intact in $(secs "$start" "$end") s; retransmitted $(sed -n 's/^TcpRetransSegs=//p' "$WORK/connect.stats") segments; nft dropped $drops2 kernel packets; clean close (TIME_WAIT in tcpwave, no reset of the connection)"
grep -A2 '^impairment' "$WORK/connect.log"
grep '^states:\|^counters:' "$WORK/connect.log"
