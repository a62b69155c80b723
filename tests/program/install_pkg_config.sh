#!/bin/sh
# Installs the build tree into a scratch prefix and builds a small program
# against the installed headers and library through pkg-config, static and
# shared, then runs both. Usage: install_pkg_config.sh BUILD_DIR CC
set -u
build=$1
cc=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; echo "0 passed, 1 failed"; exit 1; }

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null || fail "cmake --install"
pc=$(find "$tmp/prefix" -name tcpwave.pc | head -1)
[ -n "$pc" ] || fail "tcpwave.pc not installed"
[ -f "$tmp/prefix/include/tcpwave/tcpwave.h" ] || fail "headers not installed"
export PKG_CONFIG_PATH=$(dirname "$pc")
# The .pc names the configured prefix; --define-prefix derives it from the
# file's place, as for a relocated install.
pkgc() { pkg-config --define-prefix "$@"; }
cat > "$tmp/user.c" <<'C'
#include <stdio.h>
#include <tcpwave/tcpwave.h>
int main(void)
{
    struct tcpw_sim *sim;
    struct tcpw_stack *a, *b;
    int lfd, cfd;
    if (tcpw_sim_create(1, &sim) || tcpw_sim_add_host(sim, "a", 0x0a000001u, NULL, &a) ||
        tcpw_sim_add_host(sim, "b", 0x0a000002u, NULL, &b))
        return 1;
    lfd = tcpw_socket(b);
    if (tcpw_bind(b, lfd, 0, 80) || tcpw_listen(b, lfd, 4))
        return 1;
    cfd = tcpw_socket(a);
    tcpw_connect(a, cfd, 0x0a000002u, 80);
    tcpw_sim_run_until(sim, 100000);
    printf("%s\n", tcpw_state_name((enum tcpw_state)tcpw_sock_state(a, cfd)));
    tcpw_sim_destroy(sim);
    return 0;
}
C
# Sanitizer builds need the sanitizer at link time too; the pc file does not
# know about them, so pass the flags the build used.
extra=""
case "$(cat "$build/CMakeCache.txt" 2>/dev/null)" in
  *"TCPW_SANITIZE:BOOL=ON"*) extra="-fsanitize=address,undefined" ;;
esac
$cc $extra -o "$tmp/user_static" "$tmp/user.c" $(pkgc --cflags tcpwave) \
  "$tmp"/prefix/lib*/libtcpwave.a -lm || fail "static link"
$cc $extra -o "$tmp/user_shared" "$tmp/user.c" $(pkgc --cflags --libs tcpwave) \
  -Wl,-rpath,"$(pkgc --variable=libdir tcpwave)" || fail "shared link via pkg-config"
[ "$("$tmp/user_static")" = ESTABLISHED ] || fail "static program"
[ "$("$tmp/user_shared")" = ESTABLISHED ] || fail "shared program"
echo "1 passed, 0 failed"
