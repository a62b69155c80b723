/* tcp/ — initial sequence numbers.
 *
 * RFC 6528 §3 (as adopted by RFC 9293 §3.4.1):
 *   ISN = M + F(localip, localport, remoteip, remoteport, secretkey)
 * M is a 4 µs clock, truncated to 32 bits (it wraps every 2^32 · 4 µs, about
 * 4.8 hours); F is the low 32 bits of SipHash-2-4 under the stack's secret
 * (RFC 6528 asks for a keyed PRF; SipHash is one, where RFC 6528 suggests
 * MD5). F is constant per 4-tuple, so a new incarnation of a tuple starts
 * where its clock has moved on to, above the previous one's sequence space,
 * while a peer cannot predict the ISN of any tuple it does not know F for.
 */
#include "tcp/isn.h"

#include <stdint.h>

/* F's input: a domain tag byte, then the 4-tuple in network byte order.
 * The stack uses one secret for its tuple tables, ISNs and ports. Without the
 * tag F would equal the table hash of the same tuple, and an ISN (minus the
 * guessable clock) would tell a peer which bucket its tuple lands in, the
 * very thing the keyed table hash hides from hash-flooding attackers. */
#define ISN_DOMAIN_TAG 0x49 /* 'I' */

static uint32_t isn_f(const uint8_t secret[16], const struct tcpw_tuple *t)
{
    uint8_t b[13];
    b[0] = ISN_DOMAIN_TAG;
    b[1] = (uint8_t)(t->laddr >> 24);
    b[2] = (uint8_t)(t->laddr >> 16);
    b[3] = (uint8_t)(t->laddr >> 8);
    b[4] = (uint8_t)t->laddr;
    b[5] = (uint8_t)(t->lport >> 8);
    b[6] = (uint8_t)t->lport;
    b[7] = (uint8_t)(t->raddr >> 24);
    b[8] = (uint8_t)(t->raddr >> 16);
    b[9] = (uint8_t)(t->raddr >> 8);
    b[10] = (uint8_t)t->raddr;
    b[11] = (uint8_t)(t->rport >> 8);
    b[12] = (uint8_t)t->rport;
    return (uint32_t)tcpw_siphash24(secret, b, sizeof b);
}

uint32_t tcpw_isn(const uint8_t secret[16], const struct tcpw_tuple *t, uint64_t now_us)
{
    /* M: RFC 6528 §3 / RFC 9293 §3.4.1, "a 4 microsecond timer"; the
     * truncation to 32 bits is the timer's wrap. Unsigned addition wraps
     * modulo 2^32 as sequence space does. */
    uint32_t m = (uint32_t)(now_us / 4);
    return m + isn_f(secret, t);
}
