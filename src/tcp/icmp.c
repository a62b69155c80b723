/* tcp/ — ICMP input: echo (RFC 792, RFC 1122 §3.2.2.6).
 *
 * Destination-unreachable handling for connections (RFC 5927, RFC 1122
 * §4.2.3.9) belongs with the connections and arrives with them.
 */
#include "tcp/tcp.h"

#include <stdlib.h>

#define ICMP_ECHO_REPLY 0u
#define ICMP_ECHO_REQUEST 8u

void tcpw__icmp_input(struct tcpw_stack *s, const struct tcpw_packet *p)
{
    const struct tcpw_icmp *icmp = &p->l4.icmp;
    uint8_t *buf;
    size_t cap, len;

    if (icmp->type != ICMP_ECHO_REQUEST || icmp->code != 0)
        return;
    /* RFC 1122 §3.2.2.6: the reply carries the request's identifier,
     * sequence number and data unchanged. */
    cap = TCPW_IPV4_HDR_MIN + 8u + icmp->data_len;
    buf = malloc(cap);
    if (!buf)
        return;
    len = tcpw_icmp_build(buf, cap, s->addr, p->ip.src, ICMP_ECHO_REPLY, 0, icmp->rest, icmp->data,
                          icmp->data_len);
    if (len) {
        tcpw__count(s, TCPW_CTR_ICMP_OUT_MSGS);
        tcpw__stack_send(s, buf, len);
    }
    free(buf);
}
