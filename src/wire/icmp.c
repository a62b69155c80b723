/* wire/icmp.c — parse and build ICMP messages.
 *
 * RFC 792 (message formats, checksum over the whole message), RFC 1122
 * §3.2.2 (what a host must accept), RFC 1191 (next-hop MTU in bytes 6..7 of
 * a "fragmentation needed"), RFC 1071 (checksum).
 */
#include <string.h>

#include "wire/wire.h"

#define ICMP_HDR_LEN 8u

enum tcpw_drop_reason tcpw_icmp_parse(const struct tcpw_ipv4 *ip, struct tcpw_icmp *icmp)
{
    const uint8_t *p = ip->payload;
    size_t len = ip->payload_len;

    memset(icmp, 0, sizeof *icmp);
    if (len < ICMP_HDR_LEN)
        return TCPW_DROP_ICMP_TRUNCATED;
    icmp->type = p[0];
    icmp->code = p[1];
    icmp->rest = tcpw_get32(p + 4);
    icmp->data = p + ICMP_HDR_LEN;
    icmp->data_len = len - ICMP_HDR_LEN;
    /* RFC 792: the checksum covers the ICMP message (no pseudo-header). */
    if (tcpw_csum_fold(tcpw_csum_partial(p, len, 0)) != 0)
        return TCPW_DROP_ICMP_BAD_CHECKSUM;
    return TCPW_DROP_NONE;
}

size_t tcpw_icmp_build(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst, uint8_t type,
                       uint8_t code, uint32_t rest, const uint8_t *data, size_t data_len)
{
    size_t icmp_len = ICMP_HDR_LEN + data_len;
    if (data_len > 0xffffu || icmp_len > 0xffffu - TCPW_IPV4_HDR_MIN ||
        cap < TCPW_IPV4_HDR_MIN + icmp_len)
        return 0;
    /* ID 0 and DF clear: an ICMP message is sent once and never split by
     * tcpwave; TTL 64 as Linux's default (net.ipv4.ip_default_ttl). */
    size_t ip_len = tcpw_ipv4_build(buf, cap, src, dst, TCPW_IP_PROTO_ICMP, 64, 0, false, icmp_len);
    if (ip_len == 0)
        return 0;
    uint8_t *p = buf + ip_len;
    p[0] = type;
    p[1] = code;
    tcpw_put16(p + 2, 0);
    tcpw_put32(p + 4, rest);
    if (data_len)
        memcpy(p + ICMP_HDR_LEN, data, data_len);
    tcpw_put16(p + 2, tcpw_csum_fold(tcpw_csum_partial(p, icmp_len, 0)));
    return ip_len + icmp_len;
}
