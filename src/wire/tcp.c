/* wire/tcp.c — parse and build TCP headers and options.
 *
 * RFC 9293 §3.1 (header format, pseudo-header checksum) and §3.2 (options,
 * MSS), RFC 6691 (MSS), RFC 7323 §2-3 (window scale, timestamps), RFC 2018
 * §2-3 (SACK-permitted, SACK), RFC 1071 (checksum).
 */
#include <string.h>

#include "wire/wire.h"

#define TCPOLEN_MSS            4u
#define TCPOLEN_WSCALE         3u
#define TCPOLEN_SACK_PERMITTED 2u
#define TCPOLEN_TIMESTAMP      10u
#define TCPOLEN_SACK_BASE      2u
#define TCPOLEN_SACK_BLOCK     8u

/* Parses one known option whose kind and length are already bounds-checked
 * (`p` points at the kind byte, `olen` bytes are readable).
 *
 * A known kind with the wrong length is a bad option and the whole segment
 * is dropped. RFC 9293 §3.2 (MUST-7) requires being "prepared to handle an
 * illegal option length" and suggests treating it as an error; the lengths
 * are fixed by RFC 9293 §3.2 (MSS: 4), RFC 7323 §2.2 (window scale: 3) and
 * §3.2 (timestamps: 10), RFC 2018 §2 (SACK-permitted: 2) and §3 (SACK:
 * 2 + 8n). Linux instead ignores such an option silently and keeps the
 * segment; tcpwave is stricter because a sender that gets these lengths
 * wrong cannot be trusted to have got the values right, and a dropped
 * segment is counted (tcp-bad-option) where an ignored option is invisible.
 * A repeated option overwrites the earlier one, as in Linux. Whether an
 * option is allowed on this segment (MSS and window scale only on a SYN,
 * RFC 7323 §2.2) is the state machine's call, not the parser's. */
static bool tcp_opt_parse_known(const uint8_t *p, size_t olen, struct tcpw_tcp_opts *opts)
{
    switch (p[0]) {
    case TCPW_OPT_MSS:
        if (olen != TCPOLEN_MSS)
            return false;
        opts->has_mss = true;
        opts->mss = tcpw_get16(p + 2);
        return true;
    case TCPW_OPT_WSCALE:
        if (olen != TCPOLEN_WSCALE)
            return false;
        opts->has_wscale = true;
        opts->wscale = p[2];
        return true;
    case TCPW_OPT_SACK_PERMITTED:
        if (olen != TCPOLEN_SACK_PERMITTED)
            return false;
        opts->sack_permitted = true;
        return true;
    case TCPW_OPT_TIMESTAMP:
        if (olen != TCPOLEN_TIMESTAMP)
            return false;
        opts->has_ts = true;
        opts->ts_val = tcpw_get32(p + 2);
        opts->ts_ecr = tcpw_get32(p + 6);
        return true;
    case TCPW_OPT_SACK: {
        if (olen < TCPOLEN_SACK_BASE + TCPOLEN_SACK_BLOCK ||
            (olen - TCPOLEN_SACK_BASE) % TCPOLEN_SACK_BLOCK != 0)
            return false;
        size_t n = (olen - TCPOLEN_SACK_BASE) / TCPOLEN_SACK_BLOCK;
        if (n > TCPW_SACK_MAX_BLOCKS)
            return false;
        for (size_t b = 0; b < n; b++) {
            opts->sack[b].left = tcpw_get32(p + 2 + 8 * b);
            opts->sack[b].right = tcpw_get32(p + 6 + 8 * b);
        }
        opts->sack_count = (uint8_t)n;
        return true;
    }
    default:
        /* Unknown kinds: RFC 9293 §3.2 (MUST-6) says to ignore them; they are
         * skipped by their length and counted. */
        if (opts->unknown < UINT8_MAX)
            opts->unknown++;
        return true;
    }
}

enum tcpw_drop_reason tcpw_tcp_opts_parse(const uint8_t *p, size_t len, struct tcpw_tcp_opts *opts)
{
    memset(opts, 0, sizeof *opts);
    size_t i = 0;
    while (i < len) {
        uint8_t kind = p[i];
        /* RFC 9293 §3.2: End of Option List ends the options; the rest of
         * the header is padding. */
        if (kind == TCPW_OPT_EOL)
            break;
        if (kind == TCPW_OPT_NOP) {
            i++;
            continue;
        }
        /* Every other option is kind, length (counting both), data. */
        if (i + 1 >= len)
            return TCPW_DROP_TCP_BAD_OPTION; /* length byte missing */
        size_t olen = p[i + 1];
        if (olen < 2 || olen > len - i)
            return TCPW_DROP_TCP_BAD_OPTION; /* would loop or overrun */
        if (!tcp_opt_parse_known(p + i, olen, opts))
            return TCPW_DROP_TCP_BAD_OPTION;
        i += olen;
    }
    return TCPW_DROP_NONE;
}

enum tcpw_drop_reason tcpw_tcp_parse(const struct tcpw_ipv4 *ip, struct tcpw_tcp *tcp)
{
    const uint8_t *seg = ip->payload;
    size_t len = ip->payload_len;

    memset(tcp, 0, sizeof *tcp);
    if (len < TCPW_TCP_HDR_MIN)
        return TCPW_DROP_TCP_TRUNCATED;
    size_t doff = (size_t)(seg[12] >> 4) * 4u;
    if (doff < TCPW_TCP_HDR_MIN || doff > len)
        return TCPW_DROP_TCP_BAD_DATA_OFFSET;

    tcp->sport = tcpw_get16(seg);
    tcp->dport = tcpw_get16(seg + 2);
    tcp->seq = tcpw_get32(seg + 4);
    tcp->ack = tcpw_get32(seg + 8);
    tcp->doff = (uint8_t)doff;
    tcp->flags = seg[13];
    tcp->wnd = tcpw_get16(seg + 14);
    tcp->urp = tcpw_get16(seg + 18);
    tcp->payload = seg + doff;
    tcp->payload_len = len - doff;

    /* RFC 9293 §3.1: the checksum covers the pseudo-header, the header and
     * the data; summed with the stored checksum it is all ones. len fits in
     * 16 bits because the IP total length does. */
    uint32_t sum = tcpw_csum_pseudo(ip->src, ip->dst, TCPW_IP_PROTO_TCP, (uint16_t)len);
    if (tcpw_csum_fold(tcpw_csum_partial(seg, len, sum)) != 0)
        return TCPW_DROP_TCP_BAD_CHECKSUM;

    enum tcpw_drop_reason r =
        tcpw_tcp_opts_parse(seg + TCPW_TCP_HDR_MIN, doff - TCPW_TCP_HDR_MIN, &tcp->opts);
    if (r != TCPW_DROP_NONE)
        return r;
    /* Port 0 is reserved (RFC 6335 §6); nothing legitimate sends from or to it. */
    if (tcp->sport == 0 || tcp->dport == 0)
        return TCPW_DROP_TCP_BAD_PORT;
    return TCPW_DROP_NONE;
}

/* --- building --- */

/* The layout, shared by tcpw_tcp_opts_len and tcpw_tcp_opts_build so they
 * cannot disagree. It is Linux's (tcp_options_write()), every option aligned
 * to 4 bytes:
 *   MSS                        kind,len,mss                       4
 *   SACK-permitted + TS        kind,len,kind,len,val,ecr          12
 *   TS without SACK-permitted  NOP,NOP,kind,len,val,ecr           12
 *   SACK-permitted without TS  NOP,NOP,kind,len                   4
 *   window scale               NOP,kind,len,shift                 4
 *   SACK blocks                NOP,NOP,kind,len,n*(left,right)    4 + 8n
 * So a SYN with everything is 20 bytes, a data segment with timestamps 12. */
static size_t opts_fixed_len(const struct tcpw_tcp_opts *opts)
{
    size_t n = 0;
    if (opts->has_mss)
        n += 4;
    if (opts->has_ts)
        n += 12;
    else if (opts->sack_permitted)
        n += 4;
    if (opts->has_wscale)
        n += 4;
    return n;
}

/* SACK blocks that fit after `fixed` bytes in `room` bytes (RFC 2018 §3:
 * "at most 4 blocks", 3 when timestamps are used, fewer if other options
 * take space). */
static size_t opts_sack_blocks(const struct tcpw_tcp_opts *opts, size_t fixed, size_t room)
{
    size_t want = opts->sack_count;
    if (want > TCPW_SACK_MAX_BLOCKS)
        want = TCPW_SACK_MAX_BLOCKS;
    if (want == 0 || room < fixed + 4 + TCPOLEN_SACK_BLOCK)
        return 0;
    size_t fit = (room - fixed - 4) / TCPOLEN_SACK_BLOCK;
    return want < fit ? want : fit;
}

size_t tcpw_tcp_opts_len(const struct tcpw_tcp_opts *opts)
{
    size_t fixed = opts_fixed_len(opts);
    size_t blocks = opts_sack_blocks(opts, fixed, TCPW_TCP_OPTS_MAX);
    return fixed + (blocks ? 4 + TCPOLEN_SACK_BLOCK * blocks : 0);
}

size_t tcpw_tcp_opts_build(uint8_t *p, size_t cap, const struct tcpw_tcp_opts *opts)
{
    size_t room = cap < TCPW_TCP_OPTS_MAX ? cap : TCPW_TCP_OPTS_MAX;
    size_t fixed = opts_fixed_len(opts);
    if (fixed > room)
        return 0;
    size_t blocks = opts_sack_blocks(opts, fixed, room);
    size_t i = 0;

    if (opts->has_mss) {
        p[i++] = TCPW_OPT_MSS;
        p[i++] = TCPOLEN_MSS;
        tcpw_put16(p + i, opts->mss);
        i += 2;
    }
    if (opts->has_ts) {
        if (opts->sack_permitted) {
            p[i++] = TCPW_OPT_SACK_PERMITTED;
            p[i++] = TCPOLEN_SACK_PERMITTED;
        } else {
            p[i++] = TCPW_OPT_NOP;
            p[i++] = TCPW_OPT_NOP;
        }
        p[i++] = TCPW_OPT_TIMESTAMP;
        p[i++] = TCPOLEN_TIMESTAMP;
        tcpw_put32(p + i, opts->ts_val);
        tcpw_put32(p + i + 4, opts->ts_ecr);
        i += 8;
    } else if (opts->sack_permitted) {
        p[i++] = TCPW_OPT_NOP;
        p[i++] = TCPW_OPT_NOP;
        p[i++] = TCPW_OPT_SACK_PERMITTED;
        p[i++] = TCPOLEN_SACK_PERMITTED;
    }
    if (opts->has_wscale) {
        p[i++] = TCPW_OPT_NOP;
        p[i++] = TCPW_OPT_WSCALE;
        p[i++] = TCPOLEN_WSCALE;
        p[i++] = opts->wscale;
    }
    if (blocks) {
        p[i++] = TCPW_OPT_NOP;
        p[i++] = TCPW_OPT_NOP;
        p[i++] = TCPW_OPT_SACK;
        p[i++] = (uint8_t)(TCPOLEN_SACK_BASE + TCPOLEN_SACK_BLOCK * blocks);
        for (size_t b = 0; b < blocks; b++) {
            tcpw_put32(p + i, opts->sack[b].left);
            tcpw_put32(p + i + 4, opts->sack[b].right);
            i += 8;
        }
    }
    return i;
}

size_t tcpw_tcp_build(uint8_t *buf, size_t cap, const struct tcpw_tcp_out *seg)
{
    size_t opt_len = tcpw_tcp_opts_len(&seg->opts);
    size_t tcp_len = TCPW_TCP_HDR_MIN + opt_len + seg->payload_len;
    if (seg->payload_len > 0xffffu || tcp_len > 0xffffu - TCPW_IPV4_HDR_MIN ||
        cap < TCPW_IPV4_HDR_MIN + tcp_len)
        return 0;

    size_t ip_len = tcpw_ipv4_build(buf, cap, seg->src, seg->dst, TCPW_IP_PROTO_TCP, seg->ttl,
                                    seg->ip_id, seg->df, tcp_len);
    if (ip_len == 0)
        return 0;

    uint8_t *t = buf + ip_len;
    tcpw_put16(t, seg->sport);
    tcpw_put16(t + 2, seg->dport);
    tcpw_put32(t + 4, seg->seq);
    tcpw_put32(t + 8, seg->ack);
    t[12] = (uint8_t)(((TCPW_TCP_HDR_MIN + opt_len) / 4) << 4); /* reserved bits zero */
    t[13] = seg->flags;
    tcpw_put16(t + 14, seg->wnd);
    tcpw_put16(t + 16, 0);
    tcpw_put16(t + 18, 0); /* urgent pointer: tcpwave never sends urgent data */
    if (tcpw_tcp_opts_build(t + TCPW_TCP_HDR_MIN, opt_len, &seg->opts) != opt_len)
        return 0;
    if (seg->payload_len)
        memcpy(t + TCPW_TCP_HDR_MIN + opt_len, seg->payload, seg->payload_len);

    uint32_t sum = tcpw_csum_pseudo(seg->src, seg->dst, TCPW_IP_PROTO_TCP, (uint16_t)tcp_len);
    tcpw_put16(t + 16, tcpw_csum_fold(tcpw_csum_partial(t, tcp_len, sum)));
    return ip_len + tcp_len;
}
