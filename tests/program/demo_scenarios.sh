#!/bin/sh
# Runs every `tcpwave demo` scenario and checks the lines that make each one
# what it claims (the ladder is the program's output; these are its facts).
# Usage: demo_scenarios.sh path/to/tcpwave
set -u
tw=$1
fail=0
out=$(mktemp)
trap 'rm -f "$out" "$out.pcap"' EXIT

expect() { # scenario, fixed string that must appear
  if ! grep -qF -- "$2" "$out"; then
    echo "FAIL $1: missing: $2"
    fail=1
  fi
}
reject() { # scenario, fixed string that must not appear
  if grep -qF -- "$2" "$out"; then
    echo "FAIL $1: unexpected: $2"
    fail=1
  fi
}
run() {
  if ! "$tw" demo --scenario "$1" > "$out" 2>&1; then
    echo "FAIL $1: exit status"; cat "$out"; fail=1
  fi
}

n=$("$tw" demo --list | wc -l)
[ "$n" -ge 21 ] || { echo "FAIL --list: $n scenarios"; fail=1; }

run normal-close
expect normal-close "FIN_WAIT_1   ---- FIN,ACK seq=6 ack=6"
expect normal-close "FIN_WAIT_2   |<-- arrives"
expect normal-close "TIME_WAIT    |<-- arrives                               LAST_ACK"
expect normal-close "CLOSED                                                  LISTEN"
expect normal-close "client counters: TcpActiveOpens=1 TcpExtTW=1"

run server-closes-first
expect server-closes-first "server counters: TcpPassiveOpens=1 TcpExtTW=1"

run simultaneous-close
expect simultaneous-close "CLOSING"
expect simultaneous-close "client counters: TcpActiveOpens=1 TcpExtTW=1"
expect simultaneous-close "server counters: TcpPassiveOpens=1 TcpExtTW=1"

run fin-ack-together
expect fin-ack-together "FIN_WAIT_1   <---------------- FIN,ACK seq=1 ack=2"
reject fin-ack-together "FIN_WAIT_2   "

run half-close
expect half-close "client: recv() = 12 \"part 1part 2\""
expect half-close "client: recv() = 0"

run lost-last-ack
expect lost-last-ack "(lost)"
expect lost-last-ack "server: SO_ERROR = 0 (orderly close)"
reject lost-last-ack "RST"

run lost-last-ack-without-timewait
expect lost-last-ack-without-timewait "---- RST seq=2"
expect lost-last-ack-without-timewait "server: SO_ERROR = ECONNRESET"

run close-with-unread-data
expect close-with-unread-data "---- RST,ACK seq=1 ack=18"
expect close-with-unread-data "TcpExtTCPAbortOnClose=1"
reject close-with-unread-data "TIME_WAIT   "

run refused
expect refused "SO_ERROR = ECONNREFUSED"

run linger-abort
expect linger-abort "---- RST,ACK seq=15 ack=1"
expect linger-abort "client: connection ended: linger-abort"
expect linger-abort "server: recv() = -ECONNRESET"

run linger-timeout
expect linger-timeout "client: close() = -EINPROGRESS"
expect linger-timeout "client: connection ended: linger-timeout, error ETIMEDOUT"
expect linger-timeout "tcpw_close_status() = -ETIMEDOUT"

run peer-crash
expect peer-crash "client: connection ended: retransmit-timeout, error ETIMEDOUT"
expect peer-crash "client: send() = -EPIPE"
expect peer-crash "TcpRetransSegs=15"

run keepalive-dead-peer
expect keepalive-dead-peer "7200.002000 ESTABLISHED  ---- ACK seq=0 ack=1"
expect keepalive-dead-peer "7800.002000 ESTABLISHED  ---- ACK seq=0 ack=1"
expect keepalive-dead-peer "client: connection ended: keepalive-timeout, error ETIMEDOUT"

run peer-reboot
expect peer-reboot "<-------------------------- RST seq=1"
expect peer-reboot "client: recv() = -ECONNRESET"

run orphan-fin-timeout
expect orphan-fin-timeout "60.147000   # client: connection ended: orphan-fin-timeout"
expect orphan-fin-timeout "---- RST seq=2"

run icmp-unreachable
expect icmp-unreachable "client: SO_ERROR = EHOSTUNREACH"
expect icmp-unreachable "ICMP type=3 code=1"
expect icmp-unreachable "client: connection ended: icmp-error, error EHOSTUNREACH"

run tw-reuse
expect tw-reuse "client: the 4-tuple is held in TIME_WAIT for 2MSL"
expect tw-reuse "2.125000 SYN_SENT     ---- SYN seq=65544 ---"
expect tw-reuse "65537, TWRecycled=1"
expect tw-reuse "server: recv() = 5 \"again\""
expect tw-reuse "client counters: TcpActiveOpens=2 TcpExtTWRecycled=1"
reject tw-reuse "EADDRNOTAVAIL"

run ports-exhausted
expect ports-exhausted "client: ports toward 10.0.0.2:80: 3 in the range, 0 held by"
expect ports-exhausted "connections, 3 by TIME_WAIT, 0 free"
expect ports-exhausted "client: connect() = -EADDRNOTAVAIL: cannot assign requested"
expect ports-exhausted "SO_ERROR ="
expect ports-exhausted "ECONNREFUSED"
expect ports-exhausted "connections, 0 by TIME_WAIT, 3 free"
expect ports-exhausted "client: connect() found a port again"
expect ports-exhausted "client counters: TcpActiveOpens=5 TcpAttemptFails=1 TcpExtTW=3"
reject ports-exhausted "TWRecycled"

run tw-syn-newer
expect tw-syn-newer "server: the 4-tuple is held in TIME_WAIT for 2MSL"
expect tw-syn-newer "SYN_SENT     ---- SYN seq=281250 ---------------------> TIME_WAIT"
expect tw-syn-newer "above it, so a new"
expect tw-syn-newer "SYN_SENT     <------- SYN,ACK seq=65545 ack=281251 ---- SYN_RECEIVED"
expect tw-syn-newer "its ISS was the record's SND.NXT + 65537"
expect tw-syn-newer "6191), records left: 0"
expect tw-syn-newer "server: recv() = 10 \"GET /again\""
expect tw-syn-newer "server counters: TcpPassiveOpens=2"
reject tw-syn-newer "TWRecycled"
reject tw-syn-newer "RST"

run tw-syn-older
expect tw-syn-older "---------------------X TIME_WAIT"
expect tw-syn-older "SYN_SENT     ---- SYN seq=0 --------------------------> TIME_WAIT"
expect tw-syn-older "SYN_SENT     <-------------------- ACK seq=8 ack=7 ---- TIME_WAIT"
expect tw-syn-older "SYN_SENT     ---- RST seq=7 --------------------------> TIME_WAIT"
expect tw-syn-older "server: records left: 1, PAWSEstab=1"
expect tw-syn-older "server counters: TcpPassiveOpens=1 TcpExtPAWSEstab=1"
reject tw-syn-older "TcpPassiveOpens=2"
reject tw-syn-older "SYN,ACK seq=0 ack=281251"

run tw-overflow
expect tw-overflow "server: connection ended: time-wait-overflow"
expect tw-overflow "server: TIME_WAIT records: 1 (tcp_max_tw_buckets=1)"
expect tw-overflow "TCPTimeWaitOverflow=1: the second close went without"
expect tw-overflow "server counters: TcpPassiveOpens=2 TcpExtTCPTimeWaitOverflow=1"

run tw-recycle-nat
expect tw-recycle-nat "server: TIME_WAIT record for 10.0.0.100, lifetime 3.5 x RTO ="
expect tw-recycle-nat "700 ms; 10.0.0.100's TSval"
expect tw-recycle-nat "1.125000   # 1 s later the record is gone (records left: 0)"
expect tw-recycle-nat "is behind A's"
expect tw-recycle-nat " 2.125000 SYN_SENT     ---- SYN seq=0 ----"
expect tw-recycle-nat " 8.125000 SYN_SENT     ---- SYN seq=0 ----"
expect tw-recycle-nat "dropped silently, PAWSPassive=5;"
expect tw-recycle-nat "client B: SYN_SENT, retransmitting"
expect tw-recycle-nat " 64.126000 SYN_SENT     <---------------- SYN,ACK seq=0 ack=1"
expect tw-recycle-nat "ESTABLISHED after 6 dropped SYNs"
expect tw-recycle-nat "client B counters: TcpActiveOpens=1 TcpRetransSegs=6"
expect tw-recycle-nat "server counters: TcpPassiveOpens=2 TcpExtTW=1 TcpExtPAWSPassive=6"
reject tw-recycle-nat " 1.126000 SYN_SENT     <---------------- SYN,ACK"

# Raw sequence numbers make the longest arrow texts (a leftward arrow once
# overran its buffer): every scenario must still draw within 79 columns.
for s in $("$tw" demo --list | cut -d' ' -f1); do
  for mode in --absolute ""; do
    if ! "$tw" demo $mode --scenario "$s" > "$out" 2>&1; then
      echo "FAIL $mode $s: exit status"; fail=1
    fi
    if grep -qE '^.{80,}$' "$out"; then echo "FAIL $mode $s: a line over 79 columns"; fail=1; fi
  done
done

# JSON: one object per line, the first a note, every line starts with {"time":
"$tw" demo --format=json > "$out" || fail=1
if grep -qv '^{"time":' "$out"; then echo "FAIL json: a line is not an event object"; fail=1; fi
expect json '"flags":"FIN,ACK"'

# The pcap option writes a capture of every packet.
"$tw" demo --pcap "$out.pcap" > "$out" || fail=1
expect pcap "pcap: $out.pcap ("
[ -s "$out.pcap" ] || { echo "FAIL pcap: empty file"; fail=1; }

# Bad input: clear errors, exit status 2.
"$tw" demo --scenario nosuch > "$out" 2>&1; [ $? -eq 2 ] || { echo "FAIL bad scenario status"; fail=1; }
expect bad-scenario "no scenario 'nosuch'"
"$tw" demo --set tcp_msl=0 > "$out" 2>&1; [ $? -eq 2 ] || { echo "FAIL bad --set status"; fail=1; }
"$tw" demo --format xml > "$out" 2>&1; [ $? -eq 2 ] || { echo "FAIL bad --format status"; fail=1; }

if [ $fail -eq 0 ]; then echo "1 passed, 0 failed"; else echo "0 passed, 1 failed"; fi
exit $fail
