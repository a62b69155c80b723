/* Unit tests: wire/tcp.c and tcpw_tcp_flags_str — RFC 9293 §3.1 header and
 * checksum, §3.2 options, RFC 7323 (window scale, timestamps), RFC 2018
 * (SACK). Every option combination round-trips through build and parse;
 * every malformation is rejected with its own reason.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "wire/wire.h"

static const char *reason(enum tcpw_drop_reason r)
{
#define REASON_NAME(id, name, help) name,
    static const char *const names[] = {"none", TCPW_DROP_REASONS(REASON_NAME)};
#undef REASON_NAME
    return (size_t)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

#define CHECK_REASON(got, want)                                                                    \
    do {                                                                                           \
        enum tcpw_drop_reason got_ = (got), want_ = (want);                                        \
        CHECK_MSG(got_ == want_, "%s: got %s, want %s", #got, reason(got_), reason(want_));        \
    } while (0)

#define SRC 0x0a4d0002u
#define DST 0x0a4d0001u

/* Recomputes the TCP checksum of a datagram (20-byte IP header) in place. */
static void fix_tcp_csum(uint8_t *buf)
{
    size_t tcp_len = tcpw_get16(buf + 2) - 20u;
    uint8_t *t = buf + 20;
    tcpw_put16(t + 16, 0);
    uint32_t sum =
        tcpw_csum_pseudo(tcpw_get32(buf + 12), tcpw_get32(buf + 16), 6, (uint16_t)tcp_len);
    tcpw_put16(t + 16, tcpw_csum_fold(tcpw_csum_partial(t, tcp_len, sum)));
}

/* A datagram with a hand-made TCP header: raw option bytes (olen a multiple
 * of 4), `n` payload bytes 'a', 'b', ..., both checksums right. */
static size_t craft(uint8_t *buf, uint16_t sport, uint16_t dport, uint8_t flags,
                    const uint8_t *opts, size_t olen, size_t n)
{
    size_t tcp_len = 20 + olen + n;
    tcpw_ipv4_build(buf, 20, SRC, DST, 6, 64, 1, true, tcp_len);
    uint8_t *t = buf + 20;
    tcpw_put16(t, sport);
    tcpw_put16(t + 2, dport);
    tcpw_put32(t + 4, 0xfffffff0u);
    tcpw_put32(t + 8, 0x00000010u);
    t[12] = (uint8_t)(((20 + olen) / 4) << 4);
    t[13] = flags;
    tcpw_put16(t + 14, 1000);
    tcpw_put16(t + 18, 0);
    if (olen)
        memcpy(t + 20, opts, olen);
    for (size_t i = 0; i < n; i++)
        t[20 + olen + i] = (uint8_t)('a' + i % 26);
    fix_tcp_csum(buf);
    return 20 + tcp_len;
}

/* --- option layout --- */

static void test_opts_len_values(void)
{
    struct tcpw_tcp_opts o;
    memset(&o, 0, sizeof o);
    CHECK_EQ(tcpw_tcp_opts_len(&o), 0);
    o.has_mss = o.sack_permitted = o.has_ts = o.has_wscale = true;
    CHECK_EQ(tcpw_tcp_opts_len(&o), 20); /* Linux's SYN */
    memset(&o, 0, sizeof o);
    o.has_ts = true;
    CHECK_EQ(tcpw_tcp_opts_len(&o), 12);
    o.sack_count = 4;
    CHECK_EQ(tcpw_tcp_opts_len(&o), 40); /* trimmed to 3 blocks */
    o.has_ts = false;
    CHECK_EQ(tcpw_tcp_opts_len(&o), 36);
    o.sack_count = 200; /* more than the array holds: clamped to 4 */
    CHECK_EQ(tcpw_tcp_opts_len(&o), 36);
    memset(&o, 0, sizeof o);
    o.sack_permitted = true;
    CHECK_EQ(tcpw_tcp_opts_len(&o), 4);
    o.has_mss = o.has_wscale = true;
    CHECK_EQ(tcpw_tcp_opts_len(&o), 12);
}

/* Linux's exact bytes for the usual cases (tcp_options_write()). */
static void test_opts_build_exact_bytes(void)
{
    struct tcpw_tcp_opts o;
    uint8_t b[40];
    memset(&o, 0, sizeof o);
    o.has_mss = o.sack_permitted = o.has_ts = o.has_wscale = true;
    o.mss = 1460;
    o.wscale = 7;
    o.ts_val = 0x01020304;
    o.ts_ecr = 0;
    /* clang-format off */
    static const uint8_t syn[20] = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0,
                                    1, 3, 3, 7};
    /* clang-format on */
    CHECK_EQ(tcpw_tcp_opts_build(b, sizeof b, &o), 20);
    CHECK(memcmp(b, syn, 20) == 0);

    o.sack_permitted = false;
    /* clang-format off */
    static const uint8_t syn_nosack[20] = {2, 4, 0x05, 0xb4, 1, 1, 8, 10, 1, 2, 3, 4, 0, 0, 0, 0,
                                           1, 3, 3, 7};
    /* clang-format on */
    CHECK_EQ(tcpw_tcp_opts_build(b, sizeof b, &o), 20);
    CHECK(memcmp(b, syn_nosack, 20) == 0);

    memset(&o, 0, sizeof o);
    o.has_mss = o.sack_permitted = o.has_wscale = true;
    o.mss = 536;
    o.wscale = 14;
    static const uint8_t syn_nots[12] = {2, 4, 0x02, 0x18, 1, 1, 4, 2, 1, 3, 3, 14};
    CHECK_EQ(tcpw_tcp_opts_build(b, sizeof b, &o), 12);
    CHECK(memcmp(b, syn_nots, 12) == 0);

    memset(&o, 0, sizeof o);
    o.has_ts = true;
    o.ts_val = 0xaabbccdd;
    o.ts_ecr = 0x11223344;
    o.sack_count = 4;
    for (int i = 0; i < 4; i++) {
        o.sack[i].left = 0x10000000u * (uint32_t)(i + 1);
        o.sack[i].right = o.sack[i].left + 0x100;
    }
    /* clang-format off */
    static const uint8_t ack_sack[40] = {
        1, 1, 8, 10, 0xaa, 0xbb, 0xcc, 0xdd, 0x11, 0x22, 0x33, 0x44, 1, 1, 5, 26,
        0x10, 0, 0, 0, 0x10, 0, 1, 0, 0x20, 0, 0, 0, 0x20, 0, 1, 0,
        0x30, 0, 0, 0, 0x30, 0, 1, 0};
    /* clang-format on */
    CHECK_EQ(tcpw_tcp_opts_build(b, sizeof b, &o), 40);
    CHECK(memcmp(b, ack_sack, 40) == 0);
}

static void test_opts_build_cap(void)
{
    struct tcpw_tcp_opts o;
    uint8_t b[64];
    memset(&o, 0, sizeof o);
    o.has_mss = o.has_ts = true;
    CHECK_EQ(tcpw_tcp_opts_build(b, 15, &o), 0); /* 16 needed */
    CHECK_EQ(tcpw_tcp_opts_build(b, 16, &o), 16);
    o.sack_count = 3;
    CHECK_EQ(tcpw_tcp_opts_build(b, 27, &o), 16); /* no room for even one block */
    CHECK_EQ(tcpw_tcp_opts_build(b, 28, &o), 28); /* one block */
    CHECK_EQ(tcpw_tcp_opts_build(b, 36, &o), 36); /* two */
    CHECK_EQ(tcpw_tcp_opts_build(b, 64, &o), 36); /* 40 max: still two */
    memset(&o, 0, sizeof o);
    CHECK_EQ(tcpw_tcp_opts_build(b, 0, &o), 0); /* nothing to write */
}

/* Expected SACK blocks after trimming to 40 bytes, derived independently of
 * the code under test: drop blocks until it fits. */
static size_t expected_blocks(size_t fixed, size_t want)
{
    size_t blocks = want > 4 ? 4 : want;
    while (blocks && fixed + 4 + 8 * blocks > 40)
        blocks--;
    return blocks;
}

/* Linux's option layout (tcp_options_write()), written out longhand. */
static size_t ref_encode(const struct tcpw_tcp_opts *o, size_t blocks, uint8_t *p)
{
    size_t n = 0;
    if (o->has_mss) {
        const uint8_t b[4] = {2, 4, (uint8_t)(o->mss >> 8), (uint8_t)o->mss};
        memcpy(p + n, b, 4);
        n += 4;
    }
    if (o->has_ts) {
        const uint8_t b[4] = {o->sack_permitted ? 4 : 1, o->sack_permitted ? 2 : 1, 8, 10};
        memcpy(p + n, b, 4);
        tcpw_put32(p + n + 4, o->ts_val);
        tcpw_put32(p + n + 8, o->ts_ecr);
        n += 12;
    } else if (o->sack_permitted) {
        const uint8_t b[4] = {1, 1, 4, 2};
        memcpy(p + n, b, 4);
        n += 4;
    }
    if (o->has_wscale) {
        const uint8_t b[4] = {1, 3, 3, o->wscale};
        memcpy(p + n, b, 4);
        n += 4;
    }
    if (blocks) {
        const uint8_t b[4] = {1, 1, 5, (uint8_t)(2 + 8 * blocks)};
        memcpy(p + n, b, 4);
        n += 4;
        for (size_t i = 0; i < blocks; i++) {
            tcpw_put32(p + n, o->sack[i].left);
            tcpw_put32(p + n + 4, o->sack[i].right);
            n += 8;
        }
    }
    return n;
}

/* Every combination of MSS, WSCALE, SACK-permitted, TS and 0..4 SACK blocks,
 * on SYN and non-SYN segments, with payloads, through build and parse. */
static void test_round_trip_every_combination(void)
{
    static const uint8_t flag_sets[] = {
        TCPW_SYN, TCPW_SYN | TCPW_ACK, TCPW_ACK, TCPW_PSH | TCPW_ACK, TCPW_FIN | TCPW_ACK,
        TCPW_RST, TCPW_RST | TCPW_ACK, 0xff};
    static const size_t payload_lens[] = {0, 1, 3, 536, 1460};
    static uint8_t payload[1460];
    static uint8_t buf[1600];
    uint64_t seed = 9293;
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)check_rand(&seed);
    size_t combos = 0;

    for (size_t f = 0; f < sizeof flag_sets; f++)
        for (unsigned mask = 0; mask < 16; mask++)
            for (unsigned sack = 0; sack <= 4; sack++)
                for (size_t pl = 0; pl < sizeof payload_lens / sizeof payload_lens[0]; pl++) {
                    struct tcpw_tcp_out out;
                    memset(&out, 0, sizeof out);
                    out.src = (uint32_t)check_rand(&seed);
                    out.dst = (uint32_t)check_rand(&seed);
                    out.sport = (uint16_t)(1 + check_rand(&seed) % 65535);
                    out.dport = (uint16_t)(1 + check_rand(&seed) % 65535);
                    out.seq = 0xffffffffu - (uint32_t)(check_rand(&seed) % 2000); /* near wrap */
                    out.ack = (uint32_t)check_rand(&seed);
                    out.flags = flag_sets[f];
                    out.ttl = (uint8_t)check_rand(&seed);
                    out.wnd = (uint16_t)check_rand(&seed);
                    out.ip_id = (uint16_t)check_rand(&seed);
                    out.df = check_rand(&seed) & 1;
                    out.opts.has_mss = mask & 1;
                    out.opts.has_wscale = mask & 2;
                    out.opts.sack_permitted = mask & 4;
                    out.opts.has_ts = mask & 8;
                    out.opts.mss = (uint16_t)check_rand(&seed);
                    out.opts.wscale = (uint8_t)(check_rand(&seed) % 15);
                    out.opts.ts_val = (uint32_t)check_rand(&seed);
                    out.opts.ts_ecr = (uint32_t)check_rand(&seed);
                    out.opts.sack_count = (uint8_t)sack;
                    for (unsigned b = 0; b < sack; b++) {
                        out.opts.sack[b].left = (uint32_t)check_rand(&seed);
                        out.opts.sack[b].right = out.opts.sack[b].left + 1 + b;
                    }
                    out.payload = payload_lens[pl] ? payload : NULL;
                    out.payload_len = payload_lens[pl];

                    size_t fixed = (out.opts.has_mss ? 4u : 0u) +
                                   (out.opts.has_ts           ? 12u
                                    : out.opts.sack_permitted ? 4u
                                                              : 0u) +
                                   (out.opts.has_wscale ? 4u : 0u);
                    size_t blocks = expected_blocks(fixed, sack);
                    size_t olen = fixed + (blocks ? 4 + 8 * blocks : 0);
                    CHECK_EQ(tcpw_tcp_opts_len(&out.opts), olen);

                    size_t n = tcpw_tcp_build(buf, sizeof buf, &out);
                    CHECK_EQ(n, 40 + olen + out.payload_len);

                    struct tcpw_packet pkt;
                    enum tcpw_drop_reason r = tcpw_packet_parse(buf, n, &pkt);
                    CHECK_MSG(r == TCPW_DROP_NONE, "flags %02x mask %u sack %u: %s", out.flags,
                              mask, sack, reason(r));
                    const struct tcpw_tcp *t = &pkt.l4.tcp;
                    CHECK_EQ(pkt.ip.src, out.src);
                    CHECK_EQ(pkt.ip.dst, out.dst);
                    CHECK_EQ(pkt.ip.proto, 6);
                    CHECK_EQ(pkt.ip.ttl, out.ttl ? out.ttl : 64);
                    CHECK_EQ(pkt.ip.id, out.ip_id);
                    CHECK_EQ(pkt.ip.frag, out.df ? 0x4000 : 0);
                    CHECK_EQ(t->sport, out.sport);
                    CHECK_EQ(t->dport, out.dport);
                    CHECK_EQ(t->seq, out.seq);
                    CHECK_EQ(t->ack, out.ack);
                    CHECK_EQ(t->flags, out.flags);
                    CHECK_EQ(t->wnd, out.wnd);
                    CHECK_EQ(t->urp, 0);
                    CHECK_EQ(t->doff, 20 + olen);
                    CHECK_EQ(t->payload_len, out.payload_len);
                    CHECK(out.payload_len == 0 ||
                          memcmp(t->payload, payload, out.payload_len) == 0);
                    CHECK_EQ(t->opts.has_mss, out.opts.has_mss);
                    CHECK_EQ(t->opts.has_wscale, out.opts.has_wscale);
                    CHECK_EQ(t->opts.sack_permitted, out.opts.sack_permitted);
                    CHECK_EQ(t->opts.has_ts, out.opts.has_ts);
                    if (out.opts.has_mss)
                        CHECK_EQ(t->opts.mss, out.opts.mss);
                    if (out.opts.has_wscale)
                        CHECK_EQ(t->opts.wscale, out.opts.wscale);
                    if (out.opts.has_ts) {
                        CHECK_EQ(t->opts.ts_val, out.opts.ts_val);
                        CHECK_EQ(t->opts.ts_ecr, out.opts.ts_ecr);
                    }
                    CHECK_EQ(t->opts.sack_count, blocks);
                    for (size_t b = 0; b < blocks; b++) {
                        CHECK_EQ(t->opts.sack[b].left, out.opts.sack[b].left);
                        CHECK_EQ(t->opts.sack[b].right, out.opts.sack[b].right);
                    }
                    CHECK_EQ(t->opts.unknown, 0);
                    /* The bytes are Linux's layout, option by option. */
                    uint8_t want[40];
                    CHECK_EQ(ref_encode(&out.opts, blocks, want), olen);
                    if (memcmp(buf + 40, want, olen) != 0) {
                        check_hexdump("built", buf + 40, olen);
                        check_hexdump("want", want, olen);
                        CHECK_MSG(false, "mask %u sack %u: option bytes differ", mask, sack);
                    }
                    combos++;
                }
    CHECK_EQ(combos, 8 * 16 * 5 * 5);
}

static void test_build_limits(void)
{
    static uint8_t buf[70000];
    static uint8_t payload[65535];
    struct tcpw_tcp_out out;
    memset(&out, 0, sizeof out);
    out.src = SRC;
    out.dst = DST;
    out.sport = 1;
    out.dport = 2;
    out.opts.has_ts = true;
    out.payload = payload;
    out.payload_len = 100;
    CHECK_EQ(tcpw_tcp_build(buf, 40 + 12 + 100, &out), 152);
    CHECK_EQ(tcpw_tcp_build(buf, 40 + 12 + 99, &out), 0);
    CHECK_EQ(tcpw_tcp_build(buf, 0, &out), 0);
    /* The largest datagram: 65535 bytes. */
    out.payload_len = 65535 - 52;
    CHECK_EQ(tcpw_tcp_build(buf, sizeof buf, &out), 65535);
    struct tcpw_packet pkt;
    CHECK_REASON(tcpw_packet_parse(buf, 65535, &pkt), TCPW_DROP_NONE);
    CHECK_EQ(pkt.l4.tcp.payload_len, 65535 - 52);
    out.payload_len++;
    CHECK_EQ(tcpw_tcp_build(buf, sizeof buf, &out), 0);
}

/* --- malformed segments, each with its reason --- */

static void test_truncated_every_length(void)
{
    uint8_t buf[64];
    struct tcpw_packet pkt;
    for (size_t n = 0; n < 20; n++) {
        craft(buf, 1, 2, TCPW_ACK, NULL, 0, 0);
        /* Shorten the IP datagram to n bytes of TCP. */
        tcpw_put16(buf + 2, (uint16_t)(20 + n));
        tcpw_put16(buf + 10, 0);
        tcpw_put16(buf + 10, tcpw_csum_fold(tcpw_csum_partial(buf, 20, 0)));
        CHECK_REASON(tcpw_packet_parse(buf, 20 + n, &pkt), TCPW_DROP_TCP_TRUNCATED);
    }
    size_t len = craft(buf, 1, 2, TCPW_ACK, NULL, 0, 0);
    CHECK_REASON(tcpw_packet_parse(buf, len, &pkt), TCPW_DROP_NONE);
    /* tcpw_tcp_parse on its own, with a hand-made IP view. */
    struct tcpw_ipv4 ip = {.src = SRC, .dst = DST, .proto = 6, .payload = buf + 20};
    struct tcpw_tcp tcp;
    for (ip.payload_len = 0; ip.payload_len < 20; ip.payload_len++)
        CHECK_REASON(tcpw_tcp_parse(&ip, &tcp), TCPW_DROP_TCP_TRUNCATED);
}

static void test_bad_data_offset(void)
{
    uint8_t buf[80];
    struct tcpw_packet pkt;
    for (unsigned doff = 0; doff < 5; doff++) {
        size_t len = craft(buf, 1, 2, TCPW_ACK, NULL, 0, 8);
        buf[32] = (uint8_t)(doff << 4);
        fix_tcp_csum(buf);
        CHECK_REASON(tcpw_packet_parse(buf, len, &pkt), TCPW_DROP_TCP_BAD_DATA_OFFSET);
    }
    /* Beyond the segment: 60 bytes of header in 28; 24 in 23. */
    size_t len = craft(buf, 1, 2, TCPW_ACK, NULL, 0, 8);
    buf[32] = 0xf0;
    fix_tcp_csum(buf);
    CHECK_REASON(tcpw_packet_parse(buf, len, &pkt), TCPW_DROP_TCP_BAD_DATA_OFFSET);
    len = craft(buf, 1, 2, TCPW_ACK, NULL, 0, 3);
    buf[32] = 0x60;
    fix_tcp_csum(buf);
    CHECK_REASON(tcpw_packet_parse(buf, len, &pkt), TCPW_DROP_TCP_BAD_DATA_OFFSET);
    /* Exactly the segment: header only, no payload. */
    len = craft(buf, 1, 2, TCPW_ACK, NULL, 0, 4);
    buf[32] = 0x60;
    buf[40] = TCPW_OPT_NOP;
    buf[41] = buf[42] = buf[43] = TCPW_OPT_NOP;
    fix_tcp_csum(buf);
    CHECK_REASON(tcpw_packet_parse(buf, len, &pkt), TCPW_DROP_NONE);
    CHECK_EQ(pkt.l4.tcp.doff, 24);
    CHECK_EQ(pkt.l4.tcp.payload_len, 0);
}

static void test_bad_checksum(void)
{
    uint8_t buf[80];
    struct tcpw_packet pkt;
    size_t len = craft(buf, 1, 2, TCPW_ACK, NULL, 0, 5);
    buf[36] ^= 0x01; /* the checksum itself */
    CHECK_REASON(tcpw_packet_parse(buf, len, &pkt), TCPW_DROP_TCP_BAD_CHECKSUM);
    len = craft(buf, 1, 2, TCPW_ACK, NULL, 0, 5);
    buf[len - 1] ^= 0x80; /* the last, odd, payload byte */
    CHECK_REASON(tcpw_packet_parse(buf, len, &pkt), TCPW_DROP_TCP_BAD_CHECKSUM);
    /* Bytes past total_len (link padding) are not covered. */
    len = craft(buf, 1, 2, TCPW_ACK, NULL, 0, 5);
    memset(buf + len, 0xee, 11);
    CHECK_REASON(tcpw_packet_parse(buf, len + 11, &pkt), TCPW_DROP_NONE);
    CHECK_EQ(pkt.l4.tcp.payload_len, 5);
    /* Checked before options and ports. */
    const uint8_t bad[4] = {TCPW_OPT_MSS, 3, 0, 0};
    len = craft(buf, 0, 2, TCPW_ACK, bad, 4, 0);
    buf[36] ^= 0x10;
    CHECK_REASON(tcpw_packet_parse(buf, len, &pkt), TCPW_DROP_TCP_BAD_CHECKSUM);
    /* When the rest of the segment sums to 0xffff, 0x0000 and 0xffff both
     * verify (one's complement has two zeros); tcpwave writes 0x0000. Make
     * such a segment by adding the checksum into the window field. */
    len = craft(buf, 1, 2, TCPW_ACK, NULL, 0, 0);
    uint32_t wnd = (uint32_t)tcpw_get16(buf + 34) + tcpw_get16(buf + 36);
    tcpw_put16(buf + 34, (uint16_t)((wnd & 0xffff) + (wnd >> 16)));
    fix_tcp_csum(buf);
    CHECK_EQ(tcpw_get16(buf + 36), 0x0000);
    CHECK_REASON(tcpw_packet_parse(buf, len, &pkt), TCPW_DROP_NONE);
    tcpw_put16(buf + 36, 0xffff);
    CHECK_REASON(tcpw_packet_parse(buf, len, &pkt), TCPW_DROP_NONE);
}

static void test_bad_options(void)
{
    static const struct {
        const char *what;
        uint8_t opts[40];
        size_t len;
    } cases[] = {
        {"length byte missing", {1, 1, 1, TCPW_OPT_MSS}, 4},
        {"unknown kind, length byte missing", {1, 1, 1, 30}, 4},
        {"length 0", {30, 0, 0, 0}, 4},
        {"length 1", {30, 1, 0, 0}, 4},
        {"length 0 of a known kind", {TCPW_OPT_TIMESTAMP, 0, 0, 0}, 4},
        {"overrunning the header", {30, 5, 0, 0}, 4},
        {"overrunning after a good option", {2, 4, 5, 0xb4, 1, 8, 10, 0}, 8},
        {"MSS length 3", {TCPW_OPT_MSS, 3, 5, 1}, 4},
        {"MSS length 5", {TCPW_OPT_MSS, 5, 5, 0xb4, 0, 1, 1, 1}, 8},
        {"MSS length 2", {TCPW_OPT_MSS, 2, 1, 1}, 4},
        {"WSCALE length 2", {TCPW_OPT_WSCALE, 2, 1, 1}, 4},
        {"WSCALE length 4", {TCPW_OPT_WSCALE, 4, 7, 0}, 4},
        {"SACK-permitted length 3", {TCPW_OPT_SACK_PERMITTED, 3, 0, 1}, 4},
        {"SACK-permitted length 4", {TCPW_OPT_SACK_PERMITTED, 4, 0, 0}, 4},
        {"TS length 8", {TCPW_OPT_TIMESTAMP, 8, 1, 2, 3, 4, 5, 6}, 8},
        {"TS length 11", {TCPW_OPT_TIMESTAMP, 11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0}, 12},
        {"TS length 12", {TCPW_OPT_TIMESTAMP, 12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0}, 12},
        {"SACK with no block", {TCPW_OPT_SACK, 2, 1, 1}, 4},
        {"SACK length 9", {TCPW_OPT_SACK, 9, 0, 0, 0, 1, 0, 0, 0, 2, 1, 1}, 12},
        {"SACK length 11", {TCPW_OPT_SACK, 11, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0}, 12},
        {"SACK length 17",
         {1, 1, TCPW_OPT_SACK, 17, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4},
         20},
        {"SACK length 3", {TCPW_OPT_SACK, 3, 0, 1}, 4},
    };
    uint8_t buf[128];
    struct tcpw_packet pkt;
    struct tcpw_tcp_opts o;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = craft(buf, 1, 2, TCPW_SYN, cases[i].opts, cases[i].len, 3);
        enum tcpw_drop_reason r = tcpw_packet_parse(buf, len, &pkt);
        CHECK_MSG(r == TCPW_DROP_TCP_BAD_OPTION, "%s: got %s", cases[i].what, reason(r));
        /* From a heap buffer of exactly the area's size, so that under ASan a
         * read one byte too far (a missing length byte) is caught. */
        uint8_t *exact = malloc(cases[i].len);
        CHECK(exact);
        memcpy(exact, cases[i].opts, cases[i].len);
        r = tcpw_tcp_opts_parse(exact, cases[i].len, &o);
        free(exact);
        CHECK_MSG(r == TCPW_DROP_TCP_BAD_OPTION, "%s (opts_parse): got %s", cases[i].what,
                  reason(r));
    }
    /* SACK with 5 blocks (42 bytes) cannot be in a TCP header; opts_parse
     * refuses it from any buffer (sack[] holds 4). Four blocks are fine. */
    uint8_t big[44];
    memset(big, 0, sizeof big);
    big[0] = TCPW_OPT_SACK;
    big[1] = 42;
    CHECK_REASON(tcpw_tcp_opts_parse(big, sizeof big, &o), TCPW_DROP_TCP_BAD_OPTION);
    big[1] = 34;
    tcpw_put32(big + 2 + 24, 0xdeadbeef);
    CHECK_REASON(tcpw_tcp_opts_parse(big, sizeof big, &o), TCPW_DROP_NONE);
    CHECK_EQ(o.sack_count, 4);
    CHECK_EQ(o.sack[3].left, 0xdeadbeef);
}

static void test_good_option_edges(void)
{
    struct tcpw_tcp_opts o;
    /* Empty area. */
    memset(&o, 0xa5, sizeof o);
    CHECK_REASON(tcpw_tcp_opts_parse(NULL, 0, &o), TCPW_DROP_NONE);
    CHECK(!o.has_mss && !o.has_ts && !o.has_wscale && !o.sack_permitted);
    CHECK_EQ(o.sack_count, 0);
    CHECK_EQ(o.unknown, 0);
    /* EOL ends the list: what follows is not parsed, not even as garbage. */
    const uint8_t eol[8] = {TCPW_OPT_MSS, 4, 0x02, 0x18, TCPW_OPT_EOL, TCPW_OPT_MSS, 3, 0xff};
    CHECK_REASON(tcpw_tcp_opts_parse(eol, sizeof eol, &o), TCPW_DROP_NONE);
    CHECK(o.has_mss);
    CHECK_EQ(o.mss, 536);
    /* All NOPs. */
    const uint8_t nops[40] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
                              1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    CHECK_REASON(tcpw_tcp_opts_parse(nops, sizeof nops, &o), TCPW_DROP_NONE);
    CHECK_EQ(o.unknown, 0);
    /* Unaligned options (no NOP padding) are legal. */
    /* clang-format off */
    const uint8_t packed[16] = {TCPW_OPT_WSCALE, 3, 9, TCPW_OPT_TIMESTAMP, 10, 0, 0, 0, 5, 0,
                                0, 0, 6, TCPW_OPT_SACK_PERMITTED, 2, TCPW_OPT_EOL};
    /* clang-format on */
    CHECK_REASON(tcpw_tcp_opts_parse(packed, sizeof packed, &o), TCPW_DROP_NONE);
    CHECK(o.has_wscale && o.has_ts && o.sack_permitted && !o.has_mss);
    CHECK_EQ(o.wscale, 9);
    CHECK_EQ(o.ts_val, 5);
    CHECK_EQ(o.ts_ecr, 6);
    /* A repeated option: the last one wins, as in Linux. */
    const uint8_t twice[8] = {TCPW_OPT_MSS, 4, 0x05, 0xb4, TCPW_OPT_MSS, 4, 0x02, 0x18};
    CHECK_REASON(tcpw_tcp_opts_parse(twice, sizeof twice, &o), TCPW_DROP_NONE);
    CHECK_EQ(o.mss, 536);
    /* The unknown count saturates instead of wrapping (opts_parse accepts
     * any buffer; a TCP header holds at most 20 unknown options). */
    static uint8_t many[600];
    for (size_t i = 0; i < sizeof many; i += 2) {
        many[i] = 99;
        many[i + 1] = 2;
    }
    CHECK_REASON(tcpw_tcp_opts_parse(many, sizeof many, &o), TCPW_DROP_NONE);
    CHECK_EQ(o.unknown, 255);
    CHECK_REASON(tcpw_tcp_opts_parse(many, 40, &o), TCPW_DROP_NONE);
    CHECK_EQ(o.unknown, 20);
    /* wscale is reported as received, even above 14 (the receiver clamps). */
    const uint8_t ws[4] = {1, TCPW_OPT_WSCALE, 3, 200};
    CHECK_REASON(tcpw_tcp_opts_parse(ws, sizeof ws, &o), TCPW_DROP_NONE);
    CHECK_EQ(o.wscale, 200);
}

/* Unknown kinds are skipped by their length and counted (RFC 9293 §3.2). */
static void test_unknown_options_skipped(void)
{
    /* clang-format off */
    const uint8_t opts[36] = {
        30, 6, 0xde, 0xad, 0xbe, 0xef,          /* MPTCP-ish, 6 bytes */
        TCPW_OPT_MSS, 4, 0x05, 0x78,            /* MSS 1400 */
        34, 2,                                  /* TFO cookie request, empty */
        19, 18, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, /* MD5 */
        253, 4, 0xf9, 0x89,                     /* RFC 6994 experiment */
        1, 1};
    /* clang-format on */
    uint8_t buf[128];
    struct tcpw_packet pkt;
    size_t len = craft(buf, 1000, 2000, TCPW_SYN, opts, sizeof opts, 7);
    CHECK_REASON(tcpw_packet_parse(buf, len, &pkt), TCPW_DROP_NONE);
    CHECK_EQ(pkt.l4.tcp.opts.unknown, 4);
    CHECK(pkt.l4.tcp.opts.has_mss);
    CHECK_EQ(pkt.l4.tcp.opts.mss, 1400);
    CHECK(!pkt.l4.tcp.opts.has_ts);
    CHECK_EQ(pkt.l4.tcp.payload_len, 7);
    CHECK_EQ(pkt.l4.tcp.payload[0], 'a');
    CHECK_EQ(pkt.l4.tcp.sport, 1000);
    CHECK_EQ(pkt.l4.tcp.dport, 2000);
    CHECK_EQ(pkt.l4.tcp.seq, 0xfffffff0u);
    CHECK_EQ(pkt.l4.tcp.ack, 0x10);
    CHECK_EQ(pkt.l4.tcp.wnd, 1000);
}

static void test_port_zero(void)
{
    uint8_t buf[64];
    struct tcpw_packet pkt;
    size_t len = craft(buf, 0, 80, TCPW_SYN, NULL, 0, 0);
    CHECK_REASON(tcpw_packet_parse(buf, len, &pkt), TCPW_DROP_TCP_BAD_PORT);
    len = craft(buf, 80, 0, TCPW_SYN, NULL, 0, 0);
    CHECK_REASON(tcpw_packet_parse(buf, len, &pkt), TCPW_DROP_TCP_BAD_PORT);
    len = craft(buf, 0, 0, TCPW_SYN, NULL, 0, 0);
    CHECK_REASON(tcpw_packet_parse(buf, len, &pkt), TCPW_DROP_TCP_BAD_PORT);
    len = craft(buf, 1, 65535, TCPW_SYN, NULL, 0, 0);
    CHECK_REASON(tcpw_packet_parse(buf, len, &pkt), TCPW_DROP_NONE);
    /* A bad option is reported before a bad port. */
    const uint8_t bad[4] = {TCPW_OPT_WSCALE, 4, 1, 1};
    len = craft(buf, 0, 80, TCPW_SYN, bad, 4, 0);
    CHECK_REASON(tcpw_packet_parse(buf, len, &pkt), TCPW_DROP_TCP_BAD_OPTION);
}

/* Reserved bits and the urgent pointer are reported, not judged. */
static void test_reserved_bits_and_urgent(void)
{
    uint8_t buf[64];
    struct tcpw_packet pkt;
    size_t len = craft(buf, 1, 2, TCPW_URG | TCPW_ACK, NULL, 0, 4);
    buf[32] |= 0x0f;
    tcpw_put16(buf + 38, 3);
    fix_tcp_csum(buf);
    CHECK_REASON(tcpw_packet_parse(buf, len, &pkt), TCPW_DROP_NONE);
    CHECK_EQ(pkt.l4.tcp.doff, 20);
    CHECK_EQ(pkt.l4.tcp.urp, 3);
    CHECK_EQ(pkt.l4.tcp.flags, TCPW_URG | TCPW_ACK);
}

static void test_flags_str(void)
{
    char b[32];
    CHECK_STR(tcpw_tcp_flags_str(TCPW_SYN, b), "SYN");
    CHECK_STR(tcpw_tcp_flags_str(TCPW_SYN | TCPW_ACK, b), "SYN,ACK");
    CHECK_STR(tcpw_tcp_flags_str(TCPW_FIN | TCPW_ACK, b), "FIN,ACK");
    CHECK_STR(tcpw_tcp_flags_str(TCPW_RST | TCPW_ACK, b), "RST,ACK");
    CHECK_STR(tcpw_tcp_flags_str(TCPW_PSH | TCPW_ACK, b), "PSH,ACK");
    CHECK_STR(tcpw_tcp_flags_str(TCPW_ECE | TCPW_CWR | TCPW_SYN, b), "SYN,ECE,CWR");
    CHECK_STR(tcpw_tcp_flags_str(0xff, b), "FIN,SYN,RST,PSH,ACK,URG,ECE,CWR");
    CHECK_STR(tcpw_tcp_flags_str(0, b), "none");
    CHECK(tcpw_tcp_flags_str(TCPW_RST, b) == b);
}

int main(void)
{
    RUN(test_opts_len_values);
    RUN(test_opts_build_exact_bytes);
    RUN(test_opts_build_cap);
    RUN(test_round_trip_every_combination);
    RUN(test_build_limits);
    RUN(test_truncated_every_length);
    RUN(test_bad_data_offset);
    RUN(test_bad_checksum);
    RUN(test_bad_options);
    RUN(test_good_option_edges);
    RUN(test_unknown_options_skipped);
    RUN(test_port_zero);
    RUN(test_reserved_bits_and_urgent);
    RUN(test_flags_str);
    return check_summary();
}
