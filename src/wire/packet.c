/* wire/packet.c — a whole inbound datagram: IPv4, then TCP or ICMP.
 *
 * RFC 791 (IPv4), RFC 9293 §3.1 (TCP), RFC 792 (ICMP); the IP protocol
 * numbers are IANA's (RFC 790): 1 ICMP, 6 TCP.
 */
#include <string.h>

#include "wire/wire.h"

enum tcpw_drop_reason tcpw_packet_parse(const uint8_t *pkt, size_t len, struct tcpw_packet *out)
{
    memset(out, 0, sizeof *out);
    enum tcpw_drop_reason r = tcpw_ipv4_parse(pkt, len, &out->ip);
    if (r != TCPW_DROP_NONE)
        return r;
    switch (out->ip.proto) {
    case TCPW_IP_PROTO_TCP:
        return tcpw_tcp_parse(&out->ip, &out->l4.tcp);
    case TCPW_IP_PROTO_ICMP:
        return tcpw_icmp_parse(&out->ip, &out->l4.icmp);
    default:
        return TCPW_DROP_IP_UNKNOWN_PROTOCOL;
    }
}

const char *tcpw_tcp_flags_str(uint8_t flags, char buf[32])
{
    /* Bit order of the header, lowest first; the longest result,
     * "FIN,SYN,RST,PSH,ACK,URG,ECE,CWR", is 31 characters. */
    static const char names[8][4] = {"FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"};
    size_t n = 0;
    for (unsigned bit = 0; bit < 8; bit++) {
        if (!(flags & (1u << bit)))
            continue;
        if (n)
            buf[n++] = ',';
        memcpy(buf + n, names[bit], 3);
        n += 3;
    }
    if (n == 0) {
        memcpy(buf, "none", 5); /* as tcpdump's "[none]" */
        return buf;
    }
    buf[n] = '\0';
    return buf;
}
