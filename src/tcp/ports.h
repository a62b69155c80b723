/* tcp/ — ephemeral port selection (RFC 6056).
 *
 * Algorithm 3 of RFC 6056 §3.3.3 ("simple hash-based"): each destination
 * (local address, remote address, remote port) starts its search at a
 * secret-keyed offset, and a stack-wide counter moves on after each pick,
 * so ports toward one destination are not predictable from those toward
 * another. The range is ip_local_port_range.
 */
#ifndef TCPW_PORTS_H
#define TCPW_PORTS_H

#include <stdbool.h>
#include <stdint.h>

struct tcpw_port_picker {
    uint8_t secret[16];
    uint32_t next_ephemeral; /* RFC 6056 `next_ephemeral` */
    uint64_t asked;          /* is_free calls so far (what a pick cost) */
};

/* Says whether local port `port` may be used toward the destination. */
typedef bool (*tcpw_port_free_fn)(void *user, uint16_t port);

/* Optional shortcut for the walk: how many positions of the sequence,
 * starting at `index` (0 .. range - 1, the port being lo + index) and going
 * up cyclically, are certainly not free; at most `left`. 0 when the port at
 * `index` may be free (is_free then decides). A skip only saves the calls
 * to is_free that would have said no, so the port picked, and the advance
 * of next_ephemeral, are those of the plain walk. */
typedef uint32_t (*tcpw_port_skip_fn)(void *user, uint32_t index, uint32_t left);

struct tcpw_port_probe {
    tcpw_port_free_fn is_free;
    tcpw_port_skip_fn skip; /* NULL: probe every port */
    void *user;
};

void tcpw_port_picker_init(struct tcpw_port_picker *p, const uint8_t secret[16], uint32_t start);

/* Picks a port in [lo, hi] toward (laddr, raddr, rport) for which
 * probe->is_free says yes. Returns 0 and sets *out, -EADDRNOTAVAIL when
 * every port in the range is taken, -EINVAL when lo > hi or lo == 0. O(range)
 * calls of is_free at worst; with a skip that jumps over runs of held ports
 * in O(1), O(1) on average however full the range is. */
int tcpw_port_pick(struct tcpw_port_picker *p, uint32_t laddr, uint32_t raddr, uint16_t rport,
                   uint16_t lo, uint16_t hi, const struct tcpw_port_probe *probe,
                   uint16_t *out);

#endif
