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
};

/* Says whether local port `port` may be used toward the destination. */
typedef bool (*tcpw_port_free_fn)(void *user, uint16_t port);

void tcpw_port_picker_init(struct tcpw_port_picker *p, const uint8_t secret[16], uint32_t start);

/* Picks a port in [lo, hi] toward (laddr, raddr, rport) for which is_free
 * says yes. Returns 0 and sets *out, -EADDRNOTAVAIL when every port in the
 * range is taken, -EINVAL when lo > hi or lo == 0. */
int tcpw_port_pick(struct tcpw_port_picker *p, uint32_t laddr, uint32_t raddr, uint16_t rport,
                   uint16_t lo, uint16_t hi, tcpw_port_free_fn is_free, void *user,
                   uint16_t *out);

#endif
