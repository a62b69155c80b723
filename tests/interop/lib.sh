# Shared by tests/interop/test_*.sh (sourced; not a test itself).
#
# Each test gets its own network namespace, named tw<test><pid><random>, and
# runs tcpwave (on a TUN device) and the Linux kernel's TCP (python3 sockets,
# curl) inside it. Nothing outside the namespace is touched: the TUN devices
# and addresses live in it, and the EXIT trap kills what the test started and
# deletes the namespace, on success and on failure alike.
#
# Exit 77 (SKIP, with the reason) when the machine cannot run it: not root,
# no /dev/net/tun, no `ip`, no python3, or namespaces not allowed.
set -uo pipefail

skip() { echo "SKIP: $*"; exit 77; }
[ "$(id -u)" = 0 ] || skip "needs root (network namespaces and TUN devices)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun (load the tun module, or give the container the device)"
command -v ip >/dev/null 2>&1 || skip "no \`ip\` (Debian package iproute2)"
command -v ss >/dev/null 2>&1 || skip "no \`ss\` (Debian package iproute2)"
command -v python3 >/dev/null 2>&1 || skip "no python3"
TW=${TCPW_BUILD_DIR:-}/tcpwave
[ -x "$TW" ] || { echo "FAIL: no tcpwave binary at '$TW' (set TCPW_BUILD_DIR)"; exit 1; }

TEST_NAME=$(basename "$0" .sh)
NS="tw${TEST_NAME#test_}"
NS="${NS:0:24}$$$RANDOM"
WORK=$(mktemp -d "/tmp/${TEST_NAME}.XXXXXX")
BG_PIDS=()

cleanup() {
  local rc=$? p
  for p in "${BG_PIDS[@]}"; do
    kill -TERM "$p" 2>/dev/null
  done
  for p in "${BG_PIDS[@]}"; do
    # tcpwave exits on the first TERM once its connections finish (<= 5 s);
    # do not wait that long here.
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  ip netns del "$NS" 2>/dev/null
  # On failure (not SKIP) keep tcpwave's captures (see pcap_opt).
  if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
    save_pcaps
  fi
  rm -rf "$WORK"
}

# pcap_opt NAME: the options that make a tcpwave run capture its TUN traffic
# to $WORK/NAME.pcap, e.g. "$TW" serve ... $(pcap_opt serve1). On success the
# captures go with $WORK; when the test fails, cleanup copies them to
# ${TCPW_BUILD_DIR}/interop-artifacts/<test>.pcap (<test>.NAME.pcap when the
# test made several) and prints the paths, for tshark/Wireshark.
pcap_opt() {
  printf '%s\n' --pcap "$WORK/$1.pcap"
}

save_pcaps() {
  local dir=$TCPW_BUILD_DIR/interop-artifacts f dst
  local pcaps=("$WORK"/*.pcap)
  [ -f "${pcaps[0]}" ] || return 0
  mkdir -p "$dir" || return 0
  for f in "${pcaps[@]}"; do
    if [ "${#pcaps[@]}" = 1 ]; then
      dst=$dir/$TEST_NAME.pcap
    else
      dst=$dir/$TEST_NAME.$(basename "$f")
    fi
    cp -- "$f" "$dst" && echo "# capture kept: $dst"
  done
}
trap cleanup EXIT
trap 'exit 1' INT TERM

ip netns add "$NS" 2>/dev/null || skip "cannot create a network namespace (ip netns add)"
ip netns exec "$NS" ip link set lo up

# Runs a command inside the test's namespace.
in_ns() { ip netns exec "$NS" "$@"; }

# Prints every log of the test, then fails.
fail() {
  local f
  echo "FAIL: $*"
  for f in "$WORK"/*.log "$WORK"/*.stats; do
    [ -f "$f" ] || continue
    echo "---- $(basename "$f")"
    cat "$f"
  done
  exit 1
}

# bg NAME CMD...: starts CMD in the namespace in the background, output to
# $WORK/NAME.log; its pid is in BG_PID. `ip netns exec` execs in place, so
# the pid is the command's own.
bg() {
  local name=$1
  shift
  ip netns exec "$NS" "$@" >"$WORK/$name.log" 2>&1 &
  BG_PID=$!
  BG_PIDS+=("$BG_PID")
}

# wait_line NAME TEXT [SECONDS]: waits until $WORK/NAME.log contains TEXT.
wait_line() {
  local i
  for ((i = 0; i < ${3:-5} * 20; i++)); do
    grep -qF -- "$2" "$WORK/$1.log" 2>/dev/null && return 0
    sleep 0.05
  done
  fail "$1 did not print '$2' within ${3:-5} s"
}

# wait_exit PID [SECONDS]: waits for a background command; its status is in
# EXIT_STATUS. Fails when it runs longer.
wait_exit() {
  local i
  for ((i = 0; i < ${2:-10} * 20; i++)); do
    if ! kill -0 "$1" 2>/dev/null; then
      wait "$1"
      EXIT_STATUS=$?
      return 0
    fi
    sleep 0.05
  done
  fail "pid $1 still running after ${2:-10} s"
}

# stat_is FILE NAME VALUE: the --stats-file line NAME=VALUE is there.
stat_is() {
  grep -qx -- "$2=$3" "$1" || fail "$(basename "$1"): expected $2=$3, got $(grep -- "^$2=" "$1" || echo nothing)"
}

# kernel_tw FILTER: number of the kernel's TIME_WAIT sockets matching an ss
# filter, e.g. "dport = :80".
kernel_tw() {
  in_ns ss -Htan state time-wait "( $1 )" | grep -c .
}

# kernel_socks FILTER: number of the kernel's TCP sockets in any state.
kernel_socks() {
  in_ns ss -Htan "( $1 )" | grep -c .
}

ok() { echo "ok - $*"; }
