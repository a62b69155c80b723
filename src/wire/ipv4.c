/* wire/ipv4.c — parse and build IPv4 headers.
 *
 * RFC 791 §3.1 (header format and options), RFC 1122 §3.2.1 (what a host
 * must check on receipt), RFC 1071 (header checksum), RFC 6864 (the ID field
 * of atomic datagrams).
 */
#include <string.h>

#include "wire/wire.h"

#define IPV4_FLAG_DF          0x4000u
#define IPV4_FLAG_MF          0x2000u
#define IPV4_FRAG_OFFSET_MASK 0x1fffu

#define IPOPT_EOL 0u
#define IPOPT_NOP 1u

/* RFC 791 §3.1 "Options": EOL and NOP are single bytes; every other option
 * is kind, length (counting kind and length, so >= 2), data, and must end
 * inside the header. EOL ends the list: what follows it is padding. Only the
 * structure is checked; tcpwave acts on no IP option (RFC 1122 §3.2.1.8 lets
 * a host ignore the ones it does not implement). */
static bool ipv4_options_valid(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t kind = p[i];
        if (kind == IPOPT_EOL)
            return true;
        if (kind == IPOPT_NOP) {
            i++;
            continue;
        }
        if (i + 1 >= len)
            return false; /* the length byte is missing */
        uint8_t olen = p[i + 1];
        if (olen < 2 || olen > len - i)
            return false;
        i += olen;
    }
    return true;
}

enum tcpw_drop_reason tcpw_ipv4_parse(const uint8_t *pkt, size_t len, struct tcpw_ipv4 *ip)
{
    memset(ip, 0, sizeof *ip);

    /* RFC 1122 §3.2.1.1-2: each check below is its own drop reason, in the
     * order a reader of the header meets the fields. */
    if (len < TCPW_IPV4_HDR_MIN)
        return TCPW_DROP_IP_TRUNCATED;
    if ((pkt[0] >> 4) != 4)
        return TCPW_DROP_IP_BAD_VERSION;
    size_t ihl = (size_t)(pkt[0] & 0x0fu) * 4u;
    if (ihl < TCPW_IPV4_HDR_MIN || ihl > len)
        return TCPW_DROP_IP_BAD_IHL;
    uint16_t total_len = tcpw_get16(pkt + 2);
    /* Bytes past total_len are link padding (Ethernet pads to 60 bytes). */
    if (total_len < ihl || total_len > len)
        return TCPW_DROP_IP_BAD_TOTAL_LENGTH;

    ip->ihl = (uint8_t)ihl;
    ip->tos = pkt[1];
    ip->total_len = total_len;
    ip->id = tcpw_get16(pkt + 4);
    ip->frag = tcpw_get16(pkt + 6);
    ip->ttl = pkt[8];
    ip->proto = pkt[9];
    ip->src = tcpw_get32(pkt + 12);
    ip->dst = tcpw_get32(pkt + 16);
    ip->payload = pkt + ihl;
    ip->payload_len = total_len - ihl;

    /* RFC 791 §3.1 "Header Checksum": the sum over the header, checksum
     * field included, is all ones. */
    if (tcpw_csum_fold(tcpw_csum_partial(pkt, ihl, 0)) != 0)
        return TCPW_DROP_IP_BAD_CHECKSUM;
    if (!ipv4_options_valid(pkt + TCPW_IPV4_HDR_MIN, ihl - TCPW_IPV4_HDR_MIN))
        return TCPW_DROP_IP_BAD_OPTIONS;
    /* tcpwave does not reassemble (DESIGN.md): any fragment, first or later,
     * is dropped. DF and the reserved bit do not make a fragment. */
    if ((ip->frag & IPV4_FLAG_MF) || (ip->frag & IPV4_FRAG_OFFSET_MASK))
        return TCPW_DROP_IP_FRAGMENT;
    return TCPW_DROP_NONE;
}

size_t tcpw_ipv4_build(uint8_t *buf, size_t cap, uint32_t src, uint32_t dst, uint8_t proto,
                       uint8_t ttl, uint16_t id, bool df, size_t payload_len)
{
    if (cap < TCPW_IPV4_HDR_MIN || payload_len > 0xffffu - TCPW_IPV4_HDR_MIN)
        return 0;
    buf[0] = 0x45; /* version 4, IHL 5: tcpwave sends no IP options */
    buf[1] = 0;    /* TOS/DSCP+ECN: not used */
    tcpw_put16(buf + 2, (uint16_t)(TCPW_IPV4_HDR_MIN + payload_len));
    tcpw_put16(buf + 4, id);
    tcpw_put16(buf + 6, df ? IPV4_FLAG_DF : 0);
    buf[8] = ttl ? ttl : 64; /* a TTL of 0 would be dropped by the first hop */
    buf[9] = proto;
    tcpw_put16(buf + 10, 0);
    tcpw_put32(buf + 12, src);
    tcpw_put32(buf + 16, dst);
    tcpw_put16(buf + 10, tcpw_csum_fold(tcpw_csum_partial(buf, TCPW_IPV4_HDR_MIN, 0)));
    return TCPW_IPV4_HDR_MIN;
}
