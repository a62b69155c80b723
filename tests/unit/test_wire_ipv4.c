/* Unit tests: wire/ipv4.c and the IP part of wire/packet.c — RFC 791 §3.1
 * header checks, each malformation with its own drop reason, in order; build
 * and parse round trips.
 */
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

/* Recomputes the header checksum after a test edited the header. */
static void fix_ip_csum(uint8_t *p)
{
    size_t ihl = (size_t)(p[0] & 15) * 4;
    tcpw_put16(p + 10, 0);
    tcpw_put16(p + 10, tcpw_csum_fold(tcpw_csum_partial(p, ihl, 0)));
}

/* A valid datagram: 20-byte header, proto 253 (experimental), `n` bytes of
 * payload 0, 1, 2, ... */
static size_t make_datagram(uint8_t *buf, size_t n)
{
    size_t h = tcpw_ipv4_build(buf, 20, SRC, DST, 253, 17, 0xbeef, true, n);
    for (size_t i = 0; i < n; i++)
        buf[h + i] = (uint8_t)i;
    return h + n;
}

/* A datagram whose header carries `olen` bytes of IP options (olen % 4 == 0). */
static size_t make_with_options(uint8_t *buf, const uint8_t *opts, size_t olen, size_t n)
{
    size_t len = make_datagram(buf, n);
    memmove(buf + 20 + olen, buf + 20, n);
    memcpy(buf + 20, opts, olen);
    buf[0] = (uint8_t)(0x40 | (20 + olen) / 4);
    tcpw_put16(buf + 2, (uint16_t)(len + olen));
    fix_ip_csum(buf);
    return len + olen;
}

static void test_build_exact_bytes(void)
{
    uint8_t buf[20];
    CHECK_EQ(tcpw_ipv4_build(buf, sizeof buf, 0xac100a63, 0xac100a0c, 6, 64, 0x1c46, true, 40), 20);
    /* The textbook example (172.16.10.99 -> 172.16.10.12), checksum 0xb1e6. */
    static const uint8_t want[20] = {0x45, 0x00, 0x00, 0x3c, 0x1c, 0x46, 0x40, 0x00, 0x40, 0x06,
                                     0xb1, 0xe6, 0xac, 0x10, 0x0a, 0x63, 0xac, 0x10, 0x0a, 0x0c};
    if (memcmp(buf, want, 20) != 0) {
        check_hexdump("built", buf, 20);
        check_hexdump("want", want, 20);
    }
    CHECK(memcmp(buf, want, 20) == 0);
}

static void test_build_parse_round_trip(void)
{
    uint8_t buf[2000];
    uint64_t seed = 791;
    for (int i = 0; i < 5000; i++) {
        uint32_t src = (uint32_t)check_rand(&seed), dst = (uint32_t)check_rand(&seed);
        uint8_t proto = (uint8_t)check_rand(&seed), ttl = (uint8_t)check_rand(&seed);
        uint16_t id = (uint16_t)check_rand(&seed);
        bool df = check_rand(&seed) & 1;
        size_t n = check_rand(&seed) % 1000;
        CHECK_EQ(tcpw_ipv4_build(buf, sizeof buf, src, dst, proto, ttl, id, df, n), 20);
        struct tcpw_ipv4 ip;
        /* Extra bytes after total_len are link padding and ignored. */
        size_t pad = i % 3 ? 0 : 26;
        CHECK_REASON(tcpw_ipv4_parse(buf, 20 + n + pad, &ip), TCPW_DROP_NONE);
        CHECK_EQ(ip.src, src);
        CHECK_EQ(ip.dst, dst);
        CHECK_EQ(ip.proto, proto);
        CHECK_EQ(ip.ttl, ttl ? ttl : 64); /* 0 is sent as 64 */
        CHECK_EQ(ip.id, id);
        CHECK_EQ(ip.frag, df ? 0x4000 : 0);
        CHECK_EQ(ip.tos, 0);
        CHECK_EQ(ip.ihl, 20);
        CHECK_EQ(ip.total_len, 20 + n);
        CHECK(ip.payload == buf + 20);
        CHECK_EQ(ip.payload_len, n);
    }
}

static void test_build_limits(void)
{
    uint8_t buf[20];
    CHECK_EQ(tcpw_ipv4_build(buf, 19, SRC, DST, 6, 64, 0, false, 0), 0);
    CHECK_EQ(tcpw_ipv4_build(buf, 20, SRC, DST, 6, 64, 0, false, 65535 - 20), 20);
    CHECK_EQ(tcpw_get16(buf + 2), 65535);
    CHECK_EQ(tcpw_ipv4_build(buf, 20, SRC, DST, 6, 64, 0, false, 65535 - 19), 0);
    CHECK_EQ(tcpw_ipv4_build(buf, 20, SRC, DST, 6, 0, 0, false, 0), 20);
    CHECK_EQ(buf[8], 64);
}

/* Every length below a header is truncated; every length between the header
 * and total_len is a total length beyond the packet. */
static void test_truncated_every_length(void)
{
    uint8_t buf[64];
    size_t len = make_datagram(buf, 40);
    struct tcpw_ipv4 ip;
    for (size_t n = 0; n < 20; n++)
        CHECK_REASON(tcpw_ipv4_parse(buf, n, &ip), TCPW_DROP_IP_TRUNCATED);
    for (size_t n = 20; n < len; n++)
        CHECK_REASON(tcpw_ipv4_parse(buf, n, &ip), TCPW_DROP_IP_BAD_TOTAL_LENGTH);
    CHECK_REASON(tcpw_ipv4_parse(buf, len, &ip), TCPW_DROP_NONE);
    /* The same through the whole-packet parser. */
    struct tcpw_packet pkt;
    for (size_t n = 0; n < 20; n++)
        CHECK_REASON(tcpw_packet_parse(buf, n, &pkt), TCPW_DROP_IP_TRUNCATED);
}

static void test_bad_version(void)
{
    uint8_t buf[64];
    struct tcpw_ipv4 ip;
    for (unsigned v = 0; v < 16; v++) {
        size_t len = make_datagram(buf, 8);
        buf[0] = (uint8_t)(v << 4 | 5);
        fix_ip_csum(buf);
        CHECK_REASON(tcpw_ipv4_parse(buf, len, &ip),
                     v == 4 ? TCPW_DROP_NONE : TCPW_DROP_IP_BAD_VERSION);
    }
    /* Version is checked before IHL and the checksum. */
    size_t len = make_datagram(buf, 8);
    buf[0] = 0x60;
    CHECK_REASON(tcpw_ipv4_parse(buf, len, &ip), TCPW_DROP_IP_BAD_VERSION);
}

static void test_bad_ihl(void)
{
    uint8_t buf[80];
    struct tcpw_ipv4 ip;
    for (unsigned ihl = 0; ihl < 5; ihl++) {
        size_t len = make_datagram(buf, 40);
        buf[0] = (uint8_t)(0x40 | ihl);
        CHECK_REASON(tcpw_ipv4_parse(buf, len, &ip), TCPW_DROP_IP_BAD_IHL);
    }
    /* IHL 15 (60 bytes) beyond a 40-byte packet; 24 bytes beyond 23. */
    size_t len = make_datagram(buf, 20);
    buf[0] = 0x4f;
    CHECK_REASON(tcpw_ipv4_parse(buf, len, &ip), TCPW_DROP_IP_BAD_IHL);
    buf[0] = 0x46;
    CHECK_REASON(tcpw_ipv4_parse(buf, 23, &ip), TCPW_DROP_IP_BAD_IHL);
    /* IHL 15 with the packet long enough is fine once the rest agrees. */
    uint8_t opts[40];
    memset(opts, 1, sizeof opts); /* all NOP */
    len = make_with_options(buf, opts, 40, 4);
    CHECK_REASON(tcpw_ipv4_parse(buf, len, &ip), TCPW_DROP_NONE);
    CHECK_EQ(ip.ihl, 60);
    CHECK_EQ(ip.payload_len, 4);
    CHECK(ip.payload == buf + 60);
}

static void test_bad_total_length(void)
{
    uint8_t buf[80];
    struct tcpw_ipv4 ip;
    size_t len = make_datagram(buf, 30);
    /* Below the header length. */
    for (unsigned tl = 0; tl < 20; tl++) {
        make_datagram(buf, 30);
        tcpw_put16(buf + 2, (uint16_t)tl);
        fix_ip_csum(buf);
        CHECK_REASON(tcpw_ipv4_parse(buf, len, &ip), TCPW_DROP_IP_BAD_TOTAL_LENGTH);
    }
    /* Below a header with options (24 bytes). */
    const uint8_t nops[4] = {1, 1, 1, 1};
    len = make_with_options(buf, nops, 4, 10);
    tcpw_put16(buf + 2, 23);
    fix_ip_csum(buf);
    CHECK_REASON(tcpw_ipv4_parse(buf, len, &ip), TCPW_DROP_IP_BAD_TOTAL_LENGTH);
    /* Beyond the packet. */
    len = make_datagram(buf, 30);
    tcpw_put16(buf + 2, (uint16_t)(len + 1));
    fix_ip_csum(buf);
    CHECK_REASON(tcpw_ipv4_parse(buf, len, &ip), TCPW_DROP_IP_BAD_TOTAL_LENGTH);
    tcpw_put16(buf + 2, 0xffff);
    fix_ip_csum(buf);
    CHECK_REASON(tcpw_ipv4_parse(buf, len, &ip), TCPW_DROP_IP_BAD_TOTAL_LENGTH);
    /* Shorter than the packet: the rest is padding, not payload. */
    tcpw_put16(buf + 2, 21);
    fix_ip_csum(buf);
    CHECK_REASON(tcpw_ipv4_parse(buf, len, &ip), TCPW_DROP_NONE);
    CHECK_EQ(ip.payload_len, 1);
    tcpw_put16(buf + 2, 20);
    fix_ip_csum(buf);
    CHECK_REASON(tcpw_ipv4_parse(buf, len, &ip), TCPW_DROP_NONE);
    CHECK_EQ(ip.payload_len, 0);
}

static void test_bad_checksum(void)
{
    uint8_t buf[64];
    struct tcpw_ipv4 ip;
    size_t len = make_datagram(buf, 8);
    buf[10] ^= 0x01;
    CHECK_REASON(tcpw_ipv4_parse(buf, len, &ip), TCPW_DROP_IP_BAD_CHECKSUM);
    /* The checksum covers options too. */
    const uint8_t nops[4] = {1, 1, 1, 1};
    len = make_with_options(buf, nops, 4, 8);
    buf[23] = 0;
    CHECK_REASON(tcpw_ipv4_parse(buf, len, &ip), TCPW_DROP_IP_BAD_CHECKSUM);
    /* And not the payload. */
    len = make_datagram(buf, 8);
    buf[25] ^= 0xff;
    CHECK_REASON(tcpw_ipv4_parse(buf, len, &ip), TCPW_DROP_NONE);
}

static void test_options(void)
{
    struct {
        const char *what;
        uint8_t opts[12];
        size_t len;
        enum tcpw_drop_reason want;
    } cases[] = {
        {"NOPs", {1, 1, 1, 1}, 4, TCPW_DROP_NONE},
        {"EOL then garbage", {0, 7, 0, 99}, 4, TCPW_DROP_NONE},
        {"record route, 1 slot, EOL", {7, 7, 4, 0, 0, 0, 0, 0}, 8, TCPW_DROP_NONE},
        {"NOP, router alert", {1, 1, 1, 1, 148, 4, 0, 0}, 8, TCPW_DROP_NONE},
        {"option filling the header", {68, 12, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 12, TCPW_DROP_NONE},
        {"unknown kind, length 2", {200, 2, 1, 0}, 4, TCPW_DROP_NONE},
        {"length byte missing", {1, 1, 1, 7}, 4, TCPW_DROP_IP_BAD_OPTIONS},
        {"length 0", {7, 0, 0, 0}, 4, TCPW_DROP_IP_BAD_OPTIONS},
        {"length 1", {7, 1, 0, 0}, 4, TCPW_DROP_IP_BAD_OPTIONS},
        {"length past the header", {1, 7, 4, 0}, 4, TCPW_DROP_IP_BAD_OPTIONS},
        {"second option past the header", {7, 3, 4, 1, 148, 5, 0, 0}, 8, TCPW_DROP_IP_BAD_OPTIONS},
        {"length 255", {130, 255, 0, 0, 0, 0, 0, 0}, 8, TCPW_DROP_IP_BAD_OPTIONS},
    };
    uint8_t buf[80];
    struct tcpw_ipv4 ip;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = make_with_options(buf, cases[i].opts, cases[i].len, 8);
        enum tcpw_drop_reason r = tcpw_ipv4_parse(buf, len, &ip);
        CHECK_MSG(r == cases[i].want, "%s: got %s want %s", cases[i].what, reason(r),
                  reason(cases[i].want));
        if (r == TCPW_DROP_NONE) {
            CHECK_EQ(ip.ihl, 20 + cases[i].len);
            CHECK_EQ(ip.payload_len, 8);
            CHECK_EQ(ip.payload[7], 7);
        }
    }
}

static void test_fragments(void)
{
    static const struct {
        uint16_t frag;
        enum tcpw_drop_reason want;
    } cases[] = {
        {0x0000, TCPW_DROP_NONE},        {0x4000, TCPW_DROP_NONE}, /* DF */
        {0x8000, TCPW_DROP_NONE},        /* reserved bit: not a fragment */
        {0x2000, TCPW_DROP_IP_FRAGMENT}, /* MF, first fragment */
        {0x0001, TCPW_DROP_IP_FRAGMENT}, /* last fragment, offset 8 */
        {0x1fff, TCPW_DROP_IP_FRAGMENT}, {0x2001, TCPW_DROP_IP_FRAGMENT},
        {0x6000, TCPW_DROP_IP_FRAGMENT}, /* DF and MF: still a fragment */
        {0x4100, TCPW_DROP_IP_FRAGMENT},
    };
    uint8_t buf[64];
    struct tcpw_ipv4 ip;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = make_datagram(buf, 8);
        tcpw_put16(buf + 6, cases[i].frag);
        fix_ip_csum(buf);
        enum tcpw_drop_reason r = tcpw_ipv4_parse(buf, len, &ip);
        CHECK_MSG(r == cases[i].want, "frag 0x%04x: got %s", cases[i].frag, reason(r));
        /* A fragment's header is reported (the stack counts ReasmReqds). */
        CHECK_EQ(ip.frag, cases[i].frag);
        CHECK_EQ(ip.src, SRC);
        CHECK_EQ(ip.dst, DST);
        CHECK_EQ(ip.id, 0xbeef);
        CHECK_EQ(ip.proto, 253);
    }
}

/* Checks run in the documented order: with several faults, the earliest wins. */
static void test_check_order(void)
{
    uint8_t buf[64];
    struct tcpw_ipv4 ip;
    const uint8_t bad_opts[4] = {7, 0, 0, 0};
    /* Fragment with bad options: options first. */
    size_t len = make_with_options(buf, bad_opts, 4, 8);
    tcpw_put16(buf + 6, 0x2000);
    fix_ip_csum(buf);
    CHECK_REASON(tcpw_ipv4_parse(buf, len, &ip), TCPW_DROP_IP_BAD_OPTIONS);
    /* ... and a bad checksum before both. */
    buf[10] ^= 1;
    CHECK_REASON(tcpw_ipv4_parse(buf, len, &ip), TCPW_DROP_IP_BAD_CHECKSUM);
    /* Total length before the checksum. */
    tcpw_put16(buf + 2, 200);
    CHECK_REASON(tcpw_ipv4_parse(buf, len, &ip), TCPW_DROP_IP_BAD_TOTAL_LENGTH);
    /* IHL before total length. */
    buf[0] = 0x44;
    CHECK_REASON(tcpw_ipv4_parse(buf, len, &ip), TCPW_DROP_IP_BAD_IHL);
    /* Version before IHL. */
    buf[0] = 0x54;
    CHECK_REASON(tcpw_ipv4_parse(buf, len, &ip), TCPW_DROP_IP_BAD_VERSION);
}

static void test_packet_unknown_protocol(void)
{
    uint8_t buf[64];
    struct tcpw_packet pkt;
    size_t len = make_datagram(buf, 12); /* protocol 253 */
    CHECK_REASON(tcpw_packet_parse(buf, len, &pkt), TCPW_DROP_IP_UNKNOWN_PROTOCOL);
    CHECK_EQ(pkt.ip.proto, 253);
    CHECK_EQ(pkt.ip.src, SRC);
    CHECK_EQ(pkt.ip.payload_len, 12);
    buf[9] = 17; /* UDP */
    fix_ip_csum(buf);
    CHECK_REASON(tcpw_packet_parse(buf, len, &pkt), TCPW_DROP_IP_UNKNOWN_PROTOCOL);
    CHECK_EQ(pkt.ip.proto, 17);
    /* IP errors come through tcpw_packet_parse unchanged. */
    buf[10] ^= 0x40;
    CHECK_REASON(tcpw_packet_parse(buf, len, &pkt), TCPW_DROP_IP_BAD_CHECKSUM);
    buf[10] ^= 0x40;
    tcpw_put16(buf + 6, 0x0010);
    fix_ip_csum(buf);
    CHECK_REASON(tcpw_packet_parse(buf, len, &pkt), TCPW_DROP_IP_FRAGMENT);
}

int main(void)
{
    RUN(test_build_exact_bytes);
    RUN(test_build_parse_round_trip);
    RUN(test_build_limits);
    RUN(test_truncated_every_length);
    RUN(test_bad_version);
    RUN(test_bad_ihl);
    RUN(test_bad_total_length);
    RUN(test_bad_checksum);
    RUN(test_options);
    RUN(test_fragments);
    RUN(test_check_order);
    RUN(test_packet_unknown_protocol);
    return check_summary();
}
