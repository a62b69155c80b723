/* tcp/ — resets sent when no connection owns a segment.
 *
 * RFC 9293 §3.10.7.1 (CLOSED state), §3.5.2 (reset generation).
 */
#include "tcp/tcp.h"

void tcpw__tcp_send_reset_for(struct tcpw_stack *s, const struct tcpw_packet *p)
{
    const struct tcpw_tcp *in = &p->l4.tcp;
    struct tcpw_tcp_out out = {0};
    uint8_t buf[TCPW_IPV4_HDR_MIN + TCPW_TCP_HDR_MIN];
    size_t len;

    if (in->flags & TCPW_RST)
        return;
    out.src = s->addr;
    out.dst = p->ip.src;
    out.sport = in->dport;
    out.dport = in->sport;
    out.ttl = (uint8_t)s->cfg.ip_default_ttl;
    out.ip_id = tcpw__stack_ip_id(s);
    out.df = true;
    if (in->flags & TCPW_ACK) {
        /* "If the ACK bit is on, <SEQ=SEG.ACK><CTL=RST>" */
        out.seq = in->ack;
        out.flags = TCPW_RST;
    } else {
        /* "If the ACK bit is off, sequence number zero is used,
         * <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>" where SYN and FIN each
         * occupy one sequence number. */
        uint32_t seg_len = (uint32_t)in->payload_len + ((in->flags & TCPW_SYN) ? 1u : 0u) +
                           ((in->flags & TCPW_FIN) ? 1u : 0u);
        out.seq = 0;
        out.ack = in->seq + seg_len;
        out.flags = TCPW_RST | TCPW_ACK;
    }
    len = tcpw_tcp_build(buf, sizeof(buf), &out);
    if (len == 0)
        return;
    tcpw__count(s, TCPW_CTR_TCP_OUT_RSTS);
    tcpw__count(s, TCPW_CTR_TCP_OUT_SEGS);
    tcpw__stack_send(s, buf, len);
}
