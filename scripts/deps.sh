#!/usr/bin/env bash
# Installs the Debian 12 packages tcpwave needs, and only those missing.
#   scripts/deps.sh demo   what building and running the demo needs
#   scripts/deps.sh check  what building and running every test needs
set -euo pipefail
want=(cmake ninja-build gcc make pkg-config)
if [ "${1:-demo}" = check ]; then
  # clang + its runtime for the second compiler, ASan/UBSan and libFuzzer;
  # tshark reads our pcap files back; iproute2 and python3 make the
  # network namespaces and TUN devices of the kernel tests.
  want+=(clang libclang-rt-14-dev tshark iproute2 python3 curl nftables)
fi
missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "tcpwave: missing Debian packages: ${missing[*]} (run as root, or apt-get install them)" >&2
  exit 1
fi
echo "tcpwave: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no, without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
