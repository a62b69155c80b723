/* tcp/ — ephemeral port selection.
 *
 * RFC 6056 §3.3.3, Algorithm 3 ("Simple Hash-Based Port Selection
 * Algorithm"). Its pseudo-code:
 *
 *   num_ephemeral = max_ephemeral - min_ephemeral + 1;
 *   offset = F(local_IP, remote_IP, remote_port, secret_key);
 *   count = num_ephemeral;
 *   do {
 *       port = min_ephemeral + (next_ephemeral + offset) % num_ephemeral;
 *       next_ephemeral++;
 *       if (check_suitable_port(port))
 *           return port;
 *       count--;
 *   } while (count > 0);
 *   return ERROR;
 *
 * next_ephemeral therefore advances once per port tried, taken or not: after
 * a pick that succeeded on try k (0-based) it has moved k + 1, after a failed
 * search it has moved num_ephemeral. Consecutive picks toward one destination
 * walk its sequence from where the last one stopped, so ports just found
 * busy are not probed again first on the next pick, and the secret offset
 * makes one destination's ports unpredictable from another's.
 *
 * F is SipHash-2-4 under the stack's secret (RFC 6056 §3.3.3 asks for a keyed
 * hash such as MD5), over a domain tag and (laddr, raddr, rport) in network
 * byte order; the tag keeps it independent of the table hash and the ISN
 * function, which use the same secret.
 */
#include "tcp/ports.h"

#include <errno.h>
#include <string.h>

#include "tcp/hash.h"

#define PORTS_DOMAIN_TAG 0x50 /* 'P' */

void tcpw_port_picker_init(struct tcpw_port_picker *p, const uint8_t secret[16], uint32_t start)
{
    memcpy(p->secret, secret, sizeof p->secret);
    /* RFC 6056 §3.3.3: "Initialization at system boot time. Could be
     * random." The caller chooses (a seeded value in the simulator). */
    p->next_ephemeral = start;
    p->asked = 0;
}

static uint64_t port_offset(const struct tcpw_port_picker *p, uint32_t laddr, uint32_t raddr,
                            uint16_t rport)
{
    uint8_t b[11];
    b[0] = PORTS_DOMAIN_TAG;
    b[1] = (uint8_t)(laddr >> 24);
    b[2] = (uint8_t)(laddr >> 16);
    b[3] = (uint8_t)(laddr >> 8);
    b[4] = (uint8_t)laddr;
    b[5] = (uint8_t)(raddr >> 24);
    b[6] = (uint8_t)(raddr >> 16);
    b[7] = (uint8_t)(raddr >> 8);
    b[8] = (uint8_t)raddr;
    b[9] = (uint8_t)(rport >> 8);
    b[10] = (uint8_t)rport;
    return tcpw_siphash24(p->secret, b, sizeof b);
}

int tcpw_port_pick(struct tcpw_port_picker *p, uint32_t laddr, uint32_t raddr, uint16_t rport,
                   uint16_t lo, uint16_t hi, const struct tcpw_port_probe *probe, uint16_t *out)
{
    /* Port 0 is reserved and means "any port" to bind(), so it can never be
     * handed out; an empty range is the caller's error. */
    if (lo == 0 || lo > hi)
        return -EINVAL;

    uint32_t num = (uint32_t)hi - lo + 1; /* 1..65535 */
    /* (next_ephemeral + offset + count) % num, computed from residues so no
     * sum can wrap: each term is < num <= 65535. (When next_ephemeral itself
     * wraps at 2^32 the walk jumps once, harmlessly.) */
    uint32_t base =
        (uint32_t)((port_offset(p, laddr, raddr, rport) % num + p->next_ephemeral % num) % num);

    for (uint32_t count = 0; count < num;) {
        uint32_t index = (base + count) % num;
        if (probe->skip) {
            uint32_t n = probe->skip(probe->user, index, num - count);
            if (n) {
                count += n < num - count ? n : num - count;
                continue;
            }
        }
        p->asked++;
        if (probe->is_free(probe->user, (uint16_t)(lo + index))) {
            p->next_ephemeral += count + 1;
            *out = (uint16_t)(lo + index);
            return 0;
        }
        count++;
    }
    p->next_ephemeral += num;
    return -EADDRNOTAVAIL;
}
