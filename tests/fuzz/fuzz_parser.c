/* libFuzzer target for wire/: tcpw_packet_parse on arbitrary bytes, then a
 * rebuild of what was parsed and a re-parse that must agree.
 *
 * RFC 791 (IPv4), RFC 9293 §3.1-3.2 (TCP header and options), RFC 7323,
 * RFC 2018, RFC 792 (ICMP), RFC 1071 (checksums). ASan and UBSan watch every
 * read; abort() flags a disagreement between parser and builder.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wire/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FAIL_IF(cond)                                                                              \
    do {                                                                                           \
        if (cond) {                                                                                \
            fprintf(stderr, "fuzz_parser: %s:%d: %s\n", __FILE__, __LINE__, #cond);                \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static uint8_t out_buf[65536 + 128];

static bool opts_fixed_equal(const struct tcpw_tcp_opts *a, const struct tcpw_tcp_opts *b)
{
    if (a->has_mss != b->has_mss || a->has_wscale != b->has_wscale ||
        a->sack_permitted != b->sack_permitted || a->has_ts != b->has_ts)
        return false;
    if (a->has_mss && a->mss != b->mss)
        return false;
    if (a->has_wscale && a->wscale != b->wscale)
        return false;
    if (a->has_ts && (a->ts_val != b->ts_val || a->ts_ecr != b->ts_ecr))
        return false;
    return true;
}

static void check_tcp(const struct tcpw_packet *in)
{
    const struct tcpw_tcp *t = &in->l4.tcp;
    FAIL_IF(t->doff < 20 || t->doff > in->ip.payload_len || t->doff % 4);
    FAIL_IF(t->payload != in->ip.payload + t->doff);
    FAIL_IF(t->payload_len != in->ip.payload_len - t->doff);
    FAIL_IF(t->opts.sack_count > TCPW_SACK_MAX_BLOCKS);
    FAIL_IF(t->sport == 0 || t->dport == 0);

    struct tcpw_tcp_out out = {
        .src = in->ip.src,
        .dst = in->ip.dst,
        .sport = t->sport,
        .dport = t->dport,
        .seq = t->seq,
        .ack = t->ack,
        .flags = t->flags,
        .ttl = in->ip.ttl,
        .wnd = t->wnd,
        .ip_id = in->ip.id,
        .df = (in->ip.frag & 0x4000) != 0,
        .opts = t->opts,
        .payload = t->payload,
        .payload_len = t->payload_len,
    };
    size_t olen = tcpw_tcp_opts_len(&out.opts);
    FAIL_IF(olen > TCPW_TCP_OPTS_MAX || olen % 4);
    size_t n = tcpw_tcp_build(out_buf, sizeof out_buf, &out);
    if (40 + olen + t->payload_len > 0xffff) {
        /* Our option layout can be a few bytes longer than a packed input. */
        FAIL_IF(n != 0);
        return;
    }
    FAIL_IF(n != 40 + olen + t->payload_len);

    struct tcpw_packet re;
    FAIL_IF(tcpw_packet_parse(out_buf, n, &re) != TCPW_DROP_NONE);
    const struct tcpw_tcp *r = &re.l4.tcp;
    FAIL_IF(re.ip.src != in->ip.src || re.ip.dst != in->ip.dst || re.ip.proto != 6);
    FAIL_IF(re.ip.ttl != (in->ip.ttl ? in->ip.ttl : 64) || re.ip.id != in->ip.id);
    FAIL_IF(r->sport != t->sport || r->dport != t->dport || r->seq != t->seq || r->ack != t->ack);
    FAIL_IF(r->flags != t->flags || r->wnd != t->wnd || r->urp != 0);
    FAIL_IF(r->doff != 20 + olen);
    FAIL_IF(r->payload_len != t->payload_len);
    FAIL_IF(t->payload_len && memcmp(r->payload, t->payload, t->payload_len) != 0);
    FAIL_IF(!opts_fixed_equal(&r->opts, &t->opts));
    FAIL_IF(r->opts.unknown != 0);
    /* SACK blocks may be trimmed to fit 40 bytes, never reordered or changed. */
    FAIL_IF(r->opts.sack_count > t->opts.sack_count);
    for (size_t b = 0; b < r->opts.sack_count; b++)
        FAIL_IF(r->opts.sack[b].left != t->opts.sack[b].left ||
                r->opts.sack[b].right != t->opts.sack[b].right);
    if (r->opts.sack_count < t->opts.sack_count) {
        /* One more block would not have fitted in 40 bytes beside the other
         * options (NOP,NOP,kind,len = 4 bytes + 8 a block). tcpw_tcp_opts_len
         * itself trims, so the bound is computed from the fixed part. */
        struct tcpw_tcp_opts fixed_only = t->opts;
        fixed_only.sack_count = 0;
        FAIL_IF(tcpw_tcp_opts_len(&fixed_only) + 4u + 8u * ((size_t)r->opts.sack_count + 1u) <=
                TCPW_TCP_OPTS_MAX);
    }
    /* Building again from the re-parsed segment is a fixed point. */
    out.opts = r->opts;
    static uint8_t again[sizeof out_buf];
    FAIL_IF(tcpw_tcp_build(again, sizeof again, &out) != n || memcmp(again, out_buf, n) != 0);
}

static void check_icmp(const struct tcpw_packet *in)
{
    const struct tcpw_icmp *m = &in->l4.icmp;
    FAIL_IF(m->data != in->ip.payload + 8 || m->data_len != in->ip.payload_len - 8);
    size_t n = tcpw_icmp_build(out_buf, sizeof out_buf, in->ip.src, in->ip.dst, m->type, m->code,
                               m->rest, m->data, m->data_len);
    FAIL_IF(n != 28 + m->data_len);
    /* The message bytes are the input's, except that a checksum of 0xffff
     * (the other zero) is written as 0x0000. */
    FAIL_IF(memcmp(out_buf + 20, in->ip.payload, 2) != 0);
    FAIL_IF(memcmp(out_buf + 24, in->ip.payload + 4, 4 + m->data_len) != 0);
    uint16_t c_in = tcpw_get16(in->ip.payload + 2), c_out = tcpw_get16(out_buf + 22);
    FAIL_IF(c_in != c_out && !(c_in == 0xffff && c_out == 0x0000));
    struct tcpw_packet re;
    FAIL_IF(tcpw_packet_parse(out_buf, n, &re) != TCPW_DROP_NONE);
    FAIL_IF(re.l4.icmp.type != m->type || re.l4.icmp.code != m->code || re.l4.icmp.rest != m->rest);
}

/* Writes correct checksums into a copy of the input where its own length
 * fields allow, so mutated options and payloads get past the checksum checks
 * (random bytes almost never checksum right). Returns whether it could. */
static bool fix_checksums(uint8_t *p, size_t size)
{
    if (size < 20 || (p[0] >> 4) != 4)
        return false;
    size_t ihl = (size_t)(p[0] & 15) * 4, total = tcpw_get16(p + 2);
    if (ihl < 20 || ihl > size || total < ihl || total > size)
        return false;
    tcpw_put16(p + 10, 0);
    tcpw_put16(p + 10, tcpw_csum_fold(tcpw_csum_partial(p, ihl, 0)));
    uint8_t *l4 = p + ihl;
    size_t l4_len = total - ihl;
    if (p[9] == TCPW_IP_PROTO_TCP && l4_len >= 18) {
        tcpw_put16(l4 + 16, 0);
        uint32_t sum =
            tcpw_csum_pseudo(tcpw_get32(p + 12), tcpw_get32(p + 16), 6, (uint16_t)l4_len);
        tcpw_put16(l4 + 16, tcpw_csum_fold(tcpw_csum_partial(l4, l4_len, sum)));
    } else if (p[9] == TCPW_IP_PROTO_ICMP && l4_len >= 4) {
        tcpw_put16(l4 + 2, 0);
        tcpw_put16(l4 + 2, tcpw_csum_fold(tcpw_csum_partial(l4, l4_len, 0)));
    }
    return true;
}

static void exercise(const uint8_t *pkt, size_t size, bool checksums_fixed)
{
    /* The packet is a heap copy of exactly `size` bytes, so ASan sees any
     * read past its end; the parser must not write to it. */
    uint8_t *orig = malloc(size ? size : 1);
    if (!orig)
        return;
    memcpy(orig, pkt, size);

    struct tcpw_packet in;
    enum tcpw_drop_reason r = tcpw_packet_parse(pkt, size, &in);
    FAIL_IF(r < TCPW_DROP_NONE || r >= TCPW_DROP_COUNT);
    FAIL_IF(memcmp(pkt, orig, size) != 0);
    free(orig);
    if (checksums_fixed)
        FAIL_IF(r == TCPW_DROP_IP_BAD_CHECKSUM || r == TCPW_DROP_TCP_BAD_CHECKSUM ||
                r == TCPW_DROP_ICMP_BAD_CHECKSUM);

    if (r == TCPW_DROP_NONE || r == TCPW_DROP_IP_UNKNOWN_PROTOCOL) {
        FAIL_IF(in.ip.total_len > size || in.ip.ihl < 20 || in.ip.ihl > in.ip.total_len);
        FAIL_IF(in.ip.payload != pkt + in.ip.ihl ||
                in.ip.payload_len != (size_t)in.ip.total_len - in.ip.ihl);
        /* The IPv4 header rebuilt from the fields parses to the same fields. */
        uint8_t hdr[20];
        FAIL_IF(tcpw_ipv4_build(hdr, sizeof hdr, in.ip.src, in.ip.dst, in.ip.proto, in.ip.ttl,
                                in.ip.id, (in.ip.frag & 0x4000) != 0, 0) != 20);
        struct tcpw_ipv4 ip;
        FAIL_IF(tcpw_ipv4_parse(hdr, sizeof hdr, &ip) != TCPW_DROP_NONE);
        FAIL_IF(ip.src != in.ip.src || ip.dst != in.ip.dst || ip.proto != in.ip.proto ||
                ip.id != in.ip.id || ip.ttl != (in.ip.ttl ? in.ip.ttl : 64));
        /* An IHL-5 header with TOS 0 and no flag but DF comes back byte for
         * byte (unless its checksum is 0xffff, the other zero). */
        if (in.ip.ihl == 20 && in.ip.tos == 0 && (in.ip.frag & ~0x4000u) == 0 && in.ip.ttl &&
            tcpw_get16(pkt + 10) != 0xffff) {
            tcpw_put16(hdr + 2, in.ip.total_len);
            tcpw_put16(hdr + 10, 0);
            tcpw_put16(hdr + 10, tcpw_csum_fold(tcpw_csum_partial(hdr, 20, 0)));
            FAIL_IF(memcmp(hdr, pkt, 20) != 0);
        }
    }
    if (r == TCPW_DROP_NONE && in.ip.proto == TCPW_IP_PROTO_TCP) {
        char flags[32];
        const char *f = tcpw_tcp_flags_str(in.l4.tcp.flags, flags);
        FAIL_IF(f != flags || strlen(f) == 0 || strlen(f) > 31);
        check_tcp(&in);
    }
    if (r == TCPW_DROP_NONE && in.ip.proto == TCPW_IP_PROTO_ICMP)
        check_icmp(&in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *pkt = malloc(size ? size : 1);
    if (!pkt)
        return 0;
    memcpy(pkt, data, size);
    exercise(pkt, size, false);
    if (fix_checksums(pkt, size))
        exercise(pkt, size, true);

    /* The options parser on the raw bytes too, whatever they are. */
    struct tcpw_tcp_opts o;
    enum tcpw_drop_reason r = tcpw_tcp_opts_parse(data, size, &o);
    FAIL_IF(r != TCPW_DROP_NONE && r != TCPW_DROP_TCP_BAD_OPTION);
    FAIL_IF(o.sack_count > TCPW_SACK_MAX_BLOCKS);

    free(pkt);
    return 0;
}
